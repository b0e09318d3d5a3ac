/**
 * Thrown by a handler for a failure that retrying cannot fix (a malformed
 * request, a repository that does not exist). The consumer dead-letters the
 * entry at once instead of spending the remaining attempts.
 */
export class PermanentError extends Error {
  override readonly name = 'PermanentError';
}
