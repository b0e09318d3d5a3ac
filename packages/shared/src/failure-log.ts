import type { Redis } from 'ioredis';

/**
 * The failures of entries still pending, kept in Redis so that the first
 * failure time and last error survive a consumer crash and reach the dead
 * letter. One hash per stream and group; two fields per failing entry.
 */
export function failureLogKey(stream: string, group: string): string {
  return `${stream}:${group}:failures`;
}

/** What the failure log knows about one entry. */
export interface FailureRecord {
  firstFailureAt: Date;
  lastFailureAt: Date;
  lastError: string;
}

// Failure records of entries lost in rare paths (a group deleted by hand)
// expire a week after the last failure written.
const FAILURE_LOG_TTL_MS = 7 * 24 * 3_600_000;

/** The hash fields of one entry. */
export function failureFields(entryId: string): [string, string] {
  return [`${entryId}:first`, `${entryId}:last`];
}

/** Records a failed attempt of `entryId`. */
export async function recordFailure(
  redis: Redis,
  key: string,
  entryId: string,
  error: string,
  at: Date,
): Promise<void> {
  const [first, last] = failureFields(entryId);
  await redis
    .multi()
    .hsetnx(key, first, at.toISOString())
    .hset(key, last, JSON.stringify({ at: at.toISOString(), error }))
    .pexpire(key, FAILURE_LOG_TTL_MS)
    .exec();
}

/** Reads the failure record of `entryId`, or undefined when none was written. */
export async function readFailure(
  redis: Redis,
  key: string,
  entryId: string,
): Promise<FailureRecord | undefined> {
  const [firstRaw, lastRaw] = await redis.hmget(key, ...failureFields(entryId));
  if (firstRaw === null || firstRaw === undefined || lastRaw === null || lastRaw === undefined) {
    return undefined;
  }
  const last = JSON.parse(lastRaw) as { at: string; error: string };
  return {
    firstFailureAt: new Date(firstRaw),
    lastFailureAt: new Date(last.at),
    lastError: last.error,
  };
}
