import { setTimeout as sleep } from 'node:timers/promises';

/** Bounds of a wait loop: it gives up after `attempts` probes or `timeoutMs`. */
export interface PollBounds {
  attempts: number;
  intervalMs: number;
  timeoutMs: number;
}

/** A wait loop ran out of attempts or time. */
export class PollTimeoutError extends Error {
  override readonly name = 'PollTimeoutError';
}

/**
 * Calls `probe` until it returns a value other than undefined, and returns
 * that value. Gives up after `bounds.attempts` calls or `bounds.timeoutMs`,
 * whichever comes first, with an error built from `what` and `lastSeen()`
 * (what the probe saw last, so the failure says where the pipeline stopped).
 * A probe that throws counts as "not yet".
 */
export async function pollUntil<T>(
  what: string,
  bounds: PollBounds,
  probe: () => Promise<T | undefined>,
  lastSeen: () => string = () => '',
): Promise<T> {
  const deadline = Date.now() + bounds.timeoutMs;
  let lastError: unknown;
  for (let attempt = 1; attempt <= bounds.attempts; attempt++) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) break;
    await sleep(bounds.intervalMs);
  }
  const seen = lastSeen();
  const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
  throw new PollTimeoutError(
    `gave up waiting for ${what} after ${bounds.attempts} attempts or ${bounds.timeoutMs} ms` +
      `${seen === '' ? '' : `; last seen: ${seen}`}${cause}`,
  );
}
