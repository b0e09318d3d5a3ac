import type { Redis } from 'ioredis';
import { readGroups } from './group-info.js';

/** A consumer group's backlog, from XINFO GROUPS. */
export interface StreamLag {
  stream: string;
  group: string;
  /** False when the stream or the group does not exist; every count is then 0 or null. */
  groupExists: boolean;
  /**
   * Entries in the stream not yet delivered to the group (XINFO's `lag`).
   * Null when unknown: on Redis 6.2, and on 7 after XDEL or trimming.
   */
  undelivered: number | null;
  /** Entries delivered to some consumer of the group and not yet acknowledged. */
  pending: number;
  /** The backlog: `undelivered + pending`, null when `undelivered` is unknown. */
  lag: number | null;
  consumers: number;
  lastDeliveredId: string | null;
  /** Entries the group has read so far (Redis 7), null when unknown. */
  entriesRead: number | null;
}

/** Reads the backlog of `group` on `stream`. */
export async function readStreamLag(
  redis: Redis,
  stream: string,
  group: string,
): Promise<StreamLag> {
  const groups = await readGroups(redis, stream);
  const info = groups.find((candidate) => candidate.name === group);
  if (info === undefined) {
    return {
      stream,
      group,
      groupExists: false,
      undelivered: null,
      pending: 0,
      lag: null,
      consumers: 0,
      lastDeliveredId: null,
      entriesRead: null,
    };
  }
  return {
    stream,
    group,
    groupExists: true,
    undelivered: info.lag,
    pending: info.pending,
    lag: info.lag === null ? null : info.lag + info.pending,
    consumers: info.consumers,
    lastDeliveredId: info.lastDeliveredId,
    entriesRead: info.entriesRead,
  };
}
