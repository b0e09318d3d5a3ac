// Shared pieces of the benchmark: events, the raw-ioredis baselines, and the
// entry fields written exactly as the library writes them.
import { randomUUID } from 'node:crypto';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { type RunRequested, RunRequestedSchema } from '@reporunner/contracts';
import type { Redis } from 'ioredis';

export function event(runId: string): RunRequested {
  return create(RunRequestedSchema, {
    runId,
    repoUrl: 'https://example.test/repo.git',
    ref: 'main',
  });
}

/** XADD arguments for one event, built the way StreamProducer builds them. */
export function rawFields(message: RunRequested): (string | Buffer)[] {
  const payload = toBinary(RunRequestedSchema, message);
  return [
    'type',
    RunRequestedSchema.typeName,
    'payload',
    Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength),
    'event_id',
    randomUUID(),
    'producer',
    'bench',
    'published_at',
    new Date().toISOString(),
  ];
}

/** Raw baseline: auto-pipelined XADD, `window` calls in flight. */
export async function rawPublish(redis: Redis, stream: string, count: number, window: number) {
  for (let done = 0; done < count; done += window) {
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < Math.min(window, count - done); i += 1) {
      calls.push(redis.xadd(stream, '*', ...rawFields(event(`r${done + i}`))));
    }
    await Promise.all(calls);
  }
}

/** Raw baseline: one pipeline of `batch` XADDs per round trip. */
export async function rawPublishBatched(
  redis: Redis,
  stream: string,
  count: number,
  batch: number,
) {
  for (let done = 0; done < count; done += batch) {
    const pipeline = redis.pipeline();
    for (let i = 0; i < Math.min(batch, count - done); i += 1) {
      pipeline.xadd(stream, '*', ...rawFields(event(`r${done + i}`)));
    }
    await pipeline.exec();
  }
}

/**
 * Raw baseline consumer, done well: XREADGROUP COUNT 100, decode each entry,
 * call a no-op, one XACK per batch. Returns the entries handled.
 */
export async function rawConsume(
  redis: Redis,
  stream: string,
  group: string,
  total: number,
  onMessage: (message: RunRequested) => void = noop,
) {
  let handled = 0;
  while (handled < total) {
    // callBuffer is safe here: this connection does not auto-pipeline.
    const reply = (await redis.callBuffer(
      'XREADGROUP',
      'GROUP',
      group,
      'raw',
      'COUNT',
      100,
      'BLOCK',
      1_000,
      'STREAMS',
      stream,
      '>',
    )) as [Buffer, [Buffer, Buffer[]][]][] | null;
    if (reply === null) continue;
    const ids: string[] = [];
    for (const [, entries] of reply) {
      for (const [id, flat] of entries) {
        const fields = new Map<string, Buffer>();
        for (let i = 0; i + 1 < flat.length; i += 2) {
          fields.set(String(flat[i]), flat[i + 1] as Buffer);
        }
        const decoded = fromBinary(RunRequestedSchema, fields.get('payload') ?? Buffer.alloc(0));
        onMessage(decoded);
        ids.push(id.toString());
      }
    }
    await redis.xack(stream, group, ...ids);
    handled += ids.length;
  }
  return handled;
}

function noop(_value: unknown): void {}
