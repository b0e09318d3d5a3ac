import type { Redis } from 'ioredis';
import { sendBufferCommand } from './buffer-command.js';
import { deleteIdleConsumerScript, touchPendingScript } from './consumer-scripts.js';
import { parseEntries, type RawEntry } from './entry-fields.js';
import { flatToRecord } from './group-info.js';
import { compareStreamIds } from './stream-id.js';

/** The consumer group commands of a StreamConsumer, with their replies parsed. */
export interface GroupAddress {
  redis: Redis;
  stream: string;
  group: string;
  consumer: string;
}

/** True when Redis said the stream or group does not exist. */
export function isNoGroupError(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOGROUP');
}

/** XGROUP CREATE ... MKSTREAM; false when the group already existed. */
export async function createGroup(at: GroupAddress, fromId: string): Promise<boolean> {
  try {
    await at.redis.xgroup('CREATE', at.stream, at.group, fromId, 'MKSTREAM');
    return true;
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('BUSYGROUP')) return false;
    throw error;
  }
}

/** One page of this consumer's pending list: ids and delivery counts, after `cursor`. */
export async function ownPendingPage(
  at: GroupAddress,
  cursor: string,
  count: number,
): Promise<{ id: string; deliveries: number }[]> {
  const rows = (await at.redis.xpending(at.stream, at.group, cursor, '+', count, at.consumer)) as [
    string,
    string,
    number,
    number,
  ][];
  return rows.map(([id, , , deliveries]) => ({ id, deliveries: Number(deliveries) }));
}

/**
 * XCLAIM to this consumer with min-idle 0: Redis counts a new delivery.
 * Deleted entries are absent (Redis 7) or have null fields (Redis 6.2).
 */
export async function claimEntries(at: GroupAddress, ids: string[]): Promise<RawEntry[]> {
  const reply = await sendBufferCommand(at.redis, 'XCLAIM', [
    at.stream,
    at.group,
    at.consumer,
    0,
    ...ids,
  ]);
  return parseEntries(reply);
}

/** XAUTOCLAIM of entries idle at least `minIdleMs`; `deletedIds` only on Redis 7. */
export async function autoClaim(
  at: GroupAddress,
  minIdleMs: number,
  cursor: string,
  count: number,
): Promise<{ cursor: string; entries: RawEntry[]; deletedIds: string[] }> {
  const reply = (await sendBufferCommand(at.redis, 'XAUTOCLAIM', [
    at.stream,
    at.group,
    at.consumer,
    minIdleMs,
    cursor,
    'COUNT',
    count,
  ])) as [Buffer, unknown, Buffer[] | undefined];
  return {
    cursor: reply[0].toString(),
    entries: parseEntries(reply[1]),
    deletedIds: (reply[2] ?? []).map((id) => id.toString()),
  };
}

/** Delivery counts of `ids`, all pending for this consumer; `extra` widens the page. */
export async function deliveryCounts(
  at: GroupAddress,
  ids: string[],
  extra: number,
): Promise<Map<string, number>> {
  const sorted = [...ids].sort(compareStreamIds);
  const first = sorted[0];
  const last = sorted[sorted.length - 1];
  const counts = new Map<string, number>();
  if (first === undefined || last === undefined) return counts;
  const rows = (await at.redis.xpending(
    at.stream,
    at.group,
    first,
    last,
    ids.length + extra,
    at.consumer,
  )) as [string, string, number, number][];
  for (const [id, , , deliveries] of rows) counts.set(id, Number(deliveries));
  return counts;
}

/** Resets the idle time of `ids` still owned by this consumer; see touchPendingScript. */
export async function touchPending(at: GroupAddress, ids: Iterable<string>): Promise<void> {
  await touchPendingScript.run(at.redis, [at.stream], [at.group, at.consumer, ...ids]);
}

/**
 * Hands entries delivered but never started back to the group: RETRYCOUNT
 * undoes the delivery that never reached a handler, IDLE makes them
 * claimable by other consumers at once.
 */
export async function releaseEntries(
  at: GroupAddress,
  entries: { id: string; attempt: number }[],
  idleMs: number,
): Promise<void> {
  if (entries.length === 0) return;
  const pipeline = at.redis.pipeline();
  for (const { id, attempt } of entries) {
    pipeline.xclaim(
      at.stream,
      at.group,
      at.consumer,
      0,
      id,
      'IDLE',
      idleMs,
      'RETRYCOUNT',
      attempt - 1,
      'JUSTID',
    );
  }
  await pipeline.exec();
}

/**
 * Deletes this consumer from its group if it has nothing pending, so that a
 * cleanly stopped instance does not stay listed in XINFO CONSUMERS. With
 * entries pending it stays: they are its and are claimed from it later.
 */
export async function leaveGroupIfIdle(at: GroupAddress): Promise<boolean> {
  const deleted = await deleteIdleConsumerScript.run(
    at.redis,
    [at.stream],
    [at.group, at.consumer],
  );
  return deleted === 1;
}

/** Removes other consumers idle `thresholdMs` or more with nothing pending; returns their names. */
export async function removeIdleConsumers(
  at: GroupAddress,
  thresholdMs: number,
): Promise<string[]> {
  const consumers = (await at.redis.xinfo('CONSUMERS', at.stream, at.group)) as unknown[];
  const removed: string[] = [];
  for (const flat of consumers) {
    const record = flatToRecord(flat);
    const name = String(record.name);
    if (name === at.consumer) continue;
    if (Number(record.pending) !== 0 || Number(record.idle) < thresholdMs) continue;
    const deleted = await deleteIdleConsumerScript.run(at.redis, [at.stream], [at.group, name]);
    if (deleted === 1) removed.push(name);
  }
  return removed;
}
