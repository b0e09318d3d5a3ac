import type { Redis } from 'ioredis';

/** One group's line of XINFO GROUPS, with the Redis 7 fields null on 6.2. */
export interface GroupInfo {
  name: string;
  consumers: number;
  pending: number;
  lastDeliveredId: string;
  /** Redis 7.0+; null on 6.2 or when Redis cannot tell. */
  entriesRead: number | null;
  /** Redis 7.0+; null on 6.2, and on 7 after XDEL or trimming made it unknowable. */
  lag: number | null;
}

/** XINFO GROUPS of `stream`; an empty list when the stream does not exist. */
export async function readGroups(redis: Redis, stream: string): Promise<GroupInfo[]> {
  let reply: unknown;
  try {
    reply = await redis.xinfo('GROUPS', stream);
  } catch (error) {
    if (error instanceof Error && /no such key/i.test(error.message)) return [];
    throw error;
  }
  if (!Array.isArray(reply)) return [];
  return reply.map((flat) => toGroupInfo(flatToRecord(flat)));
}

/** Turns a RESP2 flat `[key, value, ...]` array into a record. */
export function flatToRecord(flat: unknown): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  if (!Array.isArray(flat)) return record;
  for (let i = 0; i + 1 < flat.length; i += 2) record[String(flat[i])] = flat[i + 1];
  return record;
}

function toGroupInfo(record: Record<string, unknown>): GroupInfo {
  return {
    name: String(record.name),
    consumers: Number(record.consumers ?? 0),
    pending: Number(record.pending ?? 0),
    lastDeliveredId: String(record['last-delivered-id'] ?? '0-0'),
    entriesRead: nullableNumber(record['entries-read']),
    lag: nullableNumber(record.lag),
  };
}

function nullableNumber(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  const number = Number(value);
  return Number.isFinite(number) ? number : null;
}
