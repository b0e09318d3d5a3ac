/**
 * What of an error goes into a log line: its name, message and code. Never
 * the error itself: an ioredis ReplyError carries the failed command's
 * arguments, which for a refused AUTH include the password.
 */
export function logError(error: unknown): { name: string; message: string; code?: string } {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string'
    ? { name: error.name, message: error.message, code }
    : { name: error.name, message: error.message };
}
