import type { Redis } from 'ioredis';
import { readGroups } from './group-info.js';
import { compareStreamIds, nextStreamId } from './stream-id.js';

/** What trimAcknowledged did. */
export interface TrimResult {
  /** Entries below this id were eligible; null when nothing could be trimmed safely. */
  minId: string | null;
  /** Entries XTRIM removed. */
  trimmed: number;
}

/**
 * Removes the entries of `stream` that every consumer group has acknowledged,
 * and nothing else: for each group the oldest entry it still needs is the
 * smaller of its oldest pending entry and the first entry after its
 * last-delivered id; the stream is trimmed with `XTRIM MINID` below the
 * smallest of those. A stream without groups is left alone, since a group
 * created later at `0` would expect its history.
 *
 * `approximate` (default true) lets Redis drop only whole internal nodes,
 * which is cheaper and may keep some acknowledged entries a little longer;
 * it never removes an entry at or above the MINID either way.
 * https://redis.io/docs/latest/commands/xtrim/
 *
 * A group created or moved backwards (XGROUP SETID) while this runs may lose
 * entries below the computed id; both are operator actions.
 */
export async function trimAcknowledged(
  redis: Redis,
  stream: string,
  options: { approximate?: boolean } = {},
): Promise<TrimResult> {
  const groups = await readGroups(redis, stream);
  if (groups.length === 0) return { minId: null, trimmed: 0 };

  // Groups only move forward, so reading last-delivered ids before the
  // pending summaries can only make the answer more cautious.
  const pipeline = redis.pipeline();
  for (const group of groups) pipeline.xpending(stream, group.name);
  const summaries = (await pipeline.exec()) ?? [];

  let minId: string | undefined;
  groups.forEach((group, index) => {
    const [error, summary] = summaries[index] ?? [new Error('missing XPENDING reply'), null];
    if (error) throw error;
    const [count, smallest] = summary as [number, string | null];
    let needed = nextStreamId(group.lastDeliveredId);
    if (count > 0 && smallest !== null && compareStreamIds(smallest, needed) < 0) needed = smallest;
    if (minId === undefined || compareStreamIds(needed, minId) < 0) minId = needed;
  });
  if (minId === undefined) return { minId: null, trimmed: 0 };

  const trimmed =
    options.approximate === false
      ? await redis.xtrim(stream, 'MINID', minId)
      : await redis.xtrim(stream, 'MINID', '~', minId);
  return { minId, trimmed };
}
