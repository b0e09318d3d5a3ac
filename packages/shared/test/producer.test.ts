import { AsyncLocalStorage } from 'node:async_hooks';
import { fromBinary } from '@bufbuild/protobuf';
import {
  type Context,
  type ContextManager,
  context,
  propagation,
  ROOT_CONTEXT,
  type TextMapPropagator,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import { RunRequestedSchema } from '@reporunner/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { StreamConsumer, StreamProducer, trimAcknowledged } from '../src/index.js';
import { redisForThisFile, runRequested, uniqueNames, waitFor } from './helpers.js';

const { redis } = await redisForThisFile();

/** A minimal W3C traceparent propagator, standing in for an OpenTelemetry SDK's. */
const traceparentPropagator: TextMapPropagator = {
  inject(ctx, carrier, setter) {
    const span = trace.getSpanContext(ctx);
    if (span === undefined) return;
    const flags = span.traceFlags.toString(16).padStart(2, '0');
    setter.set(carrier, 'traceparent', `00-${span.traceId}-${span.spanId}-${flags}`);
  },
  extract(ctx, carrier, getter) {
    const value = getter.get(carrier, 'traceparent');
    const header = Array.isArray(value) ? value[0] : value;
    const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(header ?? '');
    if (match === null) return ctx;
    return trace.setSpanContext(ctx, {
      traceId: match[1] ?? '',
      spanId: match[2] ?? '',
      traceFlags: Number.parseInt(match[3] ?? '0', 16),
      isRemote: true,
    });
  },
  fields: () => ['traceparent'],
};

/** Keeps the active context across awaits, as an OpenTelemetry SDK's context manager does. */
function asyncContextManager(): ContextManager {
  const storage = new AsyncLocalStorage<Context>();
  const manager: ContextManager = {
    active: () => storage.getStore() ?? ROOT_CONTEXT,
    with: (ctx, fn, thisArg, ...args) => storage.run(ctx, () => fn.call(thisArg, ...args)),
    bind: (_ctx, target) => target,
    enable: () => manager,
    disable: () => manager,
  };
  return manager;
}

afterEach(() => {
  propagation.disable();
  context.disable();
});

describe('StreamProducer', () => {
  it('when an event is published, then the entry has the documented fields and the binary payload', async () => {
    const { stream } = uniqueNames('layout');
    const producer = new StreamProducer({ redis, stream, producerName: 'gateway' });
    const before = Date.now();
    const id = await producer.publish(runRequested('run-1'));

    const [[entryId, flat] = ['', []]] = await redis.xrangeBuffer(stream, '-', '+');
    expect(entryId.toString()).toBe(id);
    const names = flat.filter((_, i) => i % 2 === 0).map(String);
    expect(names).toEqual(['type', 'payload', 'event_id', 'producer', 'published_at']);
    const field = (name: string) => flat[names.indexOf(name) * 2 + 1] ?? Buffer.alloc(0);
    expect(field('type').toString()).toBe('reporunner.events.v1.RunRequested');
    expect(fromBinary(RunRequestedSchema, field('payload')).runId).toBe('run-1');
    expect(field('event_id').toString()).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(field('producer').toString()).toBe('gateway');
    const publishedAt = Date.parse(field('published_at').toString());
    expect(publishedAt).toBeGreaterThanOrEqual(before);
    expect(field('published_at').toString()).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('when many events are published at once, then they go out in one socket write and their ids come back in order', async () => {
    const { stream } = uniqueNames('many');
    const producer = new StreamProducer({ redis, stream, producerName: 'test' });
    await redis.ping();
    const socket = (redis as unknown as { stream: { write: (...args: unknown[]) => boolean } })
      .stream;
    const write = socket.write;
    let writes = 0;
    socket.write = (...args: unknown[]) => {
      writes += 1;
      return write.apply(socket, args);
    };
    let ids: string[];
    try {
      ids = await producer.publishMany(
        Array.from({ length: 100 }, (_, i) => runRequested(`run-${i}`)),
      );
    } finally {
      socket.write = write;
    }
    expect(writes).toBe(1);
    const entries = await redis.xrange(stream, '-', '+');
    expect(entries.map(([id]) => id)).toEqual(ids);
    expect(await producer.publishMany([])).toEqual([]);
  });

  it('when a trace is active, then the entry carries its traceparent and the handler runs in that trace', async () => {
    context.setGlobalContextManager(asyncContextManager());
    propagation.setGlobalPropagator(traceparentPropagator);
    const { stream, group, dlq } = uniqueNames('trace');
    const producer = new StreamProducer({ redis, stream, producerName: 'test' });
    const spanContext = {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: TraceFlags.SAMPLED,
    };
    await context.with(trace.setSpanContext(ROOT_CONTEXT, spanContext), () =>
      producer.publish(runRequested('traced')),
    );

    let seen: { traceparent: string | undefined; activeTraceId: string | undefined } | undefined;
    const consumer = new StreamConsumer({
      redis,
      stream,
      group,
      deadLetterList: dlq,
      handles: [RunRequestedSchema],
      handler: async (_event, handlerContext) => {
        seen = {
          traceparent: handlerContext.traceparent,
          activeTraceId: trace.getSpanContext(context.active())?.traceId,
        };
        return true;
      },
    });
    await consumer.start();
    await waitFor('handled', () => seen !== undefined);
    await consumer.stop();

    expect(seen).toEqual({
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      activeTraceId: '0af7651916cd43dd8448eb211c80319c',
    });
  });
});

describe('trimming', () => {
  it('when a stream is trimmed with plain MAXLEN ~, then entries still pending are lost (why the library never does it)', async () => {
    const { stream, group } = uniqueNames('maxlen');
    const producer = new StreamProducer({ redis, stream, producerName: 'test' });
    await producer.publishMany(Array.from({ length: 1_000 }, (_, i) => runRequested(`run-${i}`)));
    await redis.xgroup('CREATE', stream, group, '0');
    await redis.xreadgroup('GROUP', group, 'c', 'COUNT', 1_000, 'STREAMS', stream, '>');

    await redis.xtrim(stream, 'MAXLEN', '~', 10);
    const [, , deleted] = (await redis.xautoclaim(
      stream,
      group,
      'c',
      0,
      '0-0',
      'COUNT',
      1_000,
    )) as [string, unknown[], string[]];
    expect(await redis.xlen(stream)).toBeLessThan(1_000);
    expect(deleted.length).toBe(1_000 - (await redis.xlen(stream)));
    expect(deleted.length).toBeGreaterThan(0);
  });

  it('when trimAcknowledged runs, then only entries every group acknowledged are removed', async () => {
    const { stream, group } = uniqueNames('safe-trim');
    const slow = `${group}:slow`;
    const fast = `${group}:fast`;
    const producer = new StreamProducer({ redis, stream, producerName: 'test' });
    const ids = await producer.publishMany(
      Array.from({ length: 100 }, (_, i) => runRequested(`run-${i}`)),
    );
    await redis.xgroup('CREATE', stream, slow, '0');
    await redis.xgroup('CREATE', stream, fast, '0');
    // slow: read 60, acknowledged the first 40 and entry 50; fast: read and acknowledged 80.
    await redis.xreadgroup('GROUP', slow, 'c', 'COUNT', 60, 'STREAMS', stream, '>');
    await redis.xack(stream, slow, ...ids.slice(0, 40), ids[50] ?? '');
    await redis.xreadgroup('GROUP', fast, 'c', 'COUNT', 80, 'STREAMS', stream, '>');
    await redis.xack(stream, fast, ...ids.slice(0, 80));

    const result = await trimAcknowledged(redis, stream, { approximate: false });

    expect(result).toEqual({ minId: ids[40], trimmed: 40 });
    expect((await redis.xrange(stream, '-', '+')).map(([id]) => id)).toEqual(ids.slice(40));
    const pending = (await redis.xpending(stream, slow, '-', '+', 100)) as [string][];
    const present = new Set((await redis.xrange(stream, '-', '+')).map(([id]) => id));
    expect(pending.every(([id]) => present.has(id))).toBe(true);
  });

  it('when a stream has no group, then trimAcknowledged removes nothing', async () => {
    const { stream } = uniqueNames('no-group-trim');
    await new StreamProducer({ redis, stream, producerName: 'test' }).publish(runRequested('r'));
    expect(await trimAcknowledged(redis, stream)).toEqual({ minId: null, trimmed: 0 });
    expect(await redis.xlen(stream)).toBe(1);
  });

  it('when the producer trims as it publishes, then it never removes an unacknowledged entry', async () => {
    const { stream, group } = uniqueNames('producer-trim');
    const producer = new StreamProducer({
      redis,
      stream,
      producerName: 'test',
      trim: { intervalMs: 0 },
    });
    await redis.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
    for (let round = 0; round < 5; round += 1) {
      await producer.publishMany(
        Array.from({ length: 200 }, (_, i) => runRequested(`run-${round}-${i}`)),
      );
      // Read 150 of each 200, acknowledge 100: 50 pending and 50 undelivered per round.
      const reply = (await redis.xreadgroup(
        'GROUP',
        group,
        'c',
        'COUNT',
        150,
        'STREAMS',
        stream,
        '>',
      )) as [string, [string][]][];
      const read = reply[0]?.[1].map(([id]) => id) ?? [];
      await redis.xack(stream, group, ...read.slice(0, 100));
    }
    await producer.publish(runRequested('last'));
    await waitFor('a trim happened', async () => (await redis.xlen(stream)) < 1_001);

    const pending = (await redis.xpending(stream, group, '-', '+', 10_000)) as [string][];
    const present = new Set((await redis.xrange(stream, '-', '+')).map(([id]) => id));
    expect(pending).toHaveLength(250);
    expect(pending.filter(([id]) => !present.has(id))).toEqual([]);
    const [, , deleted] = (await redis.xautoclaim(
      stream,
      group,
      'c',
      0,
      '0-0',
      'COUNT',
      10_000,
    )) as [string, unknown[], string[]];
    expect(deleted).toEqual([]);
  });
});
