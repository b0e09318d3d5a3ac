import { decodeEvent } from '@reporunner/contracts';
import type { Redis } from 'ioredis';

/** A decoded stream entry: its id, short type name and run id. */
export interface StreamEvent {
  id: string;
  type: string;
  runId: string;
}

/**
 * Every entry of `stream`, decoded with the contracts (field layout of
 * packages/shared: `type` and a binary `payload`).
 */
export async function readStream(redis: Redis, stream: string): Promise<StreamEvent[]> {
  const entries = await redis.xrangeBuffer(stream, '-', '+');
  return entries.map(([id, fields]) => {
    const values = new Map<string, Buffer>();
    for (let index = 0; index + 1 < fields.length; index += 2) {
      values.set(String(fields[index]), fields[index + 1] as Buffer);
    }
    const type = String(values.get('type') ?? '');
    const payload = values.get('payload') ?? Buffer.alloc(0);
    const event = decodeEvent(type, payload) as unknown as { runId?: string };
    return {
      id: String(id),
      type: type.slice(type.lastIndexOf('.') + 1),
      runId: event.runId ?? '',
    };
  });
}

/** The types of `runId`'s events in `stream`, in stream order. */
export async function eventTypesOf(redis: Redis, stream: string, runId: string): Promise<string[]> {
  return (await readStream(redis, stream))
    .filter((event) => event.runId === runId)
    .map((event) => event.type);
}

/** Pending and lag of every group of a stream, by group name. */
export async function groupBacklogs(
  redis: Redis,
  stream: string,
): Promise<Record<string, { pending: number; lag: number | null }>> {
  const groups = (await redis.call('XINFO', 'GROUPS', stream)) as unknown[][];
  const result: Record<string, { pending: number; lag: number | null }> = {};
  for (const group of groups) {
    const info = new Map<string, unknown>();
    for (let index = 0; index + 1 < group.length; index += 2) {
      info.set(String(group[index]), group[index + 1]);
    }
    const lag = info.get('lag');
    result[String(info.get('name'))] = {
      pending: Number(info.get('pending')),
      lag: lag === null || lag === undefined ? null : Number(lag),
    };
  }
  return result;
}
