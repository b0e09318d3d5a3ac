/** Milliseconds to wait before the next attempt, given the attempt that just failed (1-based). */
export type RetryBackoff = (failedAttempt: number) => number;

/** Options of exponentialBackoff. */
export interface ExponentialBackoffOptions {
  /** Delay after the first failure, before jitter. Default 1,000 ms. */
  baseMs?: number;
  /** Upper bound of any delay. Default 30,000 ms. */
  maxMs?: number;
}

/**
 * `baseMs * 2^(attempt-1)`, capped at `maxMs`, with "equal jitter": a random
 * delay between half and all of that, so that entries failing together do
 * not retry together.
 */
export function exponentialBackoff(options: ExponentialBackoffOptions = {}): RetryBackoff {
  const baseMs = options.baseMs ?? 1_000;
  const maxMs = options.maxMs ?? 30_000;
  return (failedAttempt) => {
    const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, failedAttempt - 1));
    return ceiling / 2 + Math.random() * (ceiling / 2);
  };
}
