import type { Logger } from 'pino';

/**
 * Awaits a service's start (its consumers' first Redis commands). When that
 * fails, for example because Redis refuses the credentials, it logs one fatal
 * line through `logger` and exits with code 1, instead of leaving the
 * rejection to Node, whose dump prints the failed command with its arguments:
 * for AUTH, the password.
 */
export async function startOrExit(logger: Logger, start: () => Promise<unknown>): Promise<void> {
  try {
    await start();
  } catch (error) {
    logger.fatal({ err: error }, 'start failed');
    process.exit(1);
  }
}
