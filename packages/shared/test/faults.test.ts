import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { RunRequestedSchema } from '@reporunner/contracts';
import { startTestRedis } from '@reporunner/testing';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createRedis, StreamConsumer, StreamProducer } from '../src/index.js';
import { runRequested, uniqueNames, waitFor } from './helpers.js';
import { startTcpProxy } from './tcp-proxy.js';

/** A pino logger writing into an array of parsed JSON lines. */
function memoryLogger(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line !== '') lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), lines };
}

/** A RunRequested consumer that records, in order, the run ids it handled. */
function recordingConsumer(
  redis: Redis,
  names: { stream: string; group: string; dlq: string },
  options: { blockMs: number; consumerName?: string; logger?: pino.Logger },
) {
  const handled: string[] = [];
  const consumer = new StreamConsumer({
    redis,
    stream: names.stream,
    group: names.group,
    deadLetterList: names.dlq,
    handles: [RunRequestedSchema],
    ...options,
    handler: async (event) => {
      handled.push(event.runId);
      return true;
    },
  });
  return { consumer, handled };
}

function runIds(from: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `run-${from + i}`);
}

describe('Redis restarts and lost state', () => {
  it('when Redis restarts mid-stream with its append-only file, then consumers reconnect and finish with no loss', async () => {
    const server = await startTestRedis({ appendOnly: true });
    const redis = createRedis(server.url);
    const { stream, group, dlq } = uniqueNames('aof');
    const producer = new StreamProducer({ redis, stream, producerName: 'test' });
    const handled = new Set<string>();
    const consumers = [1, 2].map(
      (n) =>
        new StreamConsumer({
          redis,
          stream,
          group,
          deadLetterList: dlq,
          consumerName: `aof-${n}`,
          handles: [RunRequestedSchema],
          concurrency: 10,
          blockMs: 1_000,
          claimIdleMs: 2_000,
          claimIntervalMs: 500,
          handler: async (event) => {
            await sleep(1);
            handled.add(event.runId);
            return true;
          },
        }),
    );
    try {
      await producer.publishMany(runIds(0, 1_000).map(runRequested));
      for (const consumer of consumers) await consumer.start();
      await waitFor('some entries handled', () => handled.size >= 200);

      await server.restart();
      await producer.publishMany(runIds(1_000, 1_000).map(runRequested));
      await waitFor('every entry handled', () => handled.size === 2_000, 60_000);
      for (const consumer of consumers) await consumer.stop();

      expect(handled.size).toBe(2_000);
      expect(await redis.xpending(stream, group)).toEqual([0, null, null, null]);
      expect(await redis.llen(dlq)).toBe(0);
    } finally {
      for (const consumer of consumers) await consumer.stop();
      redis.disconnect();
      await server.close();
    }
  });

  it('when Redis restarts with its data gone, then the consumer re-creates the group and goes on', async () => {
    const server = await startTestRedis();
    const redis = createRedis(server.url);
    const { stream, group, dlq } = uniqueNames('wiped');
    const producer = new StreamProducer({ redis, stream, producerName: 'test' });
    const { consumer, handled } = recordingConsumer(
      redis,
      { stream, group, dlq },
      { blockMs: 500 },
    );
    try {
      await consumer.start();
      await producer.publishMany(runIds(0, 10).map(runRequested));
      await waitFor('first ten handled', () => handled.length === 10);

      await server.restart({ wipe: true });
      await waitFor('redis reconnected', () => redis.status === 'ready');
      await waitFor('group re-created', () => consumer.counters.groupsRecreated === 1);
      await producer.publishMany(runIds(10, 10).map(runRequested));
      await waitFor('next ten handled', () => handled.length === 20);
      await consumer.stop();

      expect(handled).toEqual(runIds(0, 20));
      expect(consumer.counters.groupsRecreated).toBe(1);
      expect(await redis.xpending(stream, group)).toEqual([0, null, null, null]);
    } finally {
      await consumer.stop();
      redis.disconnect();
      await server.close();
    }
  });
});

describe('a lost consumer group', () => {
  it('when only the group is deleted, then it is re-created without replaying what it had acknowledged', async () => {
    const server = await startTestRedis();
    const redis = createRedis(server.url);
    const { stream, group, dlq } = uniqueNames('nogroup');
    const producer = new StreamProducer({ redis, stream, producerName: 'test' });
    const { consumer, handled } = recordingConsumer(
      redis,
      { stream, group, dlq },
      { blockMs: 200 },
    );
    try {
      await consumer.start();
      await producer.publishMany(runIds(0, 10).map(runRequested));
      await waitFor('first ten handled', () => handled.length === 10);

      await redis.xgroup('DESTROY', stream, group);
      await producer.publishMany(runIds(10, 5).map(runRequested));
      await waitFor('next five handled', () => handled.length >= 15);
      await sleep(300); // one more read cycle, in which a replay would show
      await consumer.stop();

      expect(handled).toEqual(runIds(0, 15));
      expect(consumer.counters.groupsRecreated).toBe(1);
    } finally {
      await consumer.stop();
      redis.disconnect();
      await server.close();
    }
  });

  it('when reads fail at once, then the consumer backs off, logs once, and recovers', async () => {
    const server = await startTestRedis();
    const redis = createRedis(server.url);
    const { stream, group, dlq } = uniqueNames('wrongtype');
    const { logger, lines } = memoryLogger();
    const { consumer, handled } = recordingConsumer(
      redis,
      { stream, group, dlq },
      { blockMs: 200, logger },
    );
    try {
      await consumer.start();
      // The key is replaced by a string: every XREADGROUP and XGROUP CREATE
      // now fails at once with WRONGTYPE, giving no pacing of its own.
      await redis.del(stream);
      await redis.set(stream, 'not a stream');
      await redis.config('RESETSTAT');
      await sleep(1_500);
      const info = await redis.info('commandstats');
      // Every command the read loop sends, failed ones included.
      let calls = 0;
      for (const [, command, ok, rejected, failed] of info.matchAll(
        /cmdstat_(xreadgroup|xpending|xgroup\|create):calls=(\d+),.*?rejected_calls=(\d+),failed_calls=(\d+)/g,
      )) {
        if (command !== undefined) calls += Number(ok) + Number(rejected) + Number(failed);
      }

      await redis.del(stream);
      await new StreamProducer({ redis, stream, producerName: 'test' }).publish(
        runRequested('after'),
      );
      await waitFor('handled after recovery', () => handled.length === 1);
      await consumer.stop();

      // Backoff of 100, 200, 400, 800 ms: a handful of commands in 1.5 s, not thousands.
      expect(calls).toBeGreaterThan(0);
      expect(calls).toBeLessThanOrEqual(10);
      expect(
        lines.filter((line) => line.msg === 'stream read failed' && line.level === 40),
      ).toHaveLength(1);
      expect(handled).toEqual(['after']);
    } finally {
      await consumer.stop();
      redis.disconnect();
      await server.close();
    }
  });
});

describe('a killed connection', () => {
  it('when the blocking connection is killed with CLIENT KILL while blocked, then the next event is still delivered', async () => {
    const server = await startTestRedis();
    const redis = createRedis(server.url);
    const { stream, group, dlq } = uniqueNames('clientkill');
    const { consumer, handled } = recordingConsumer(
      redis,
      { stream, group, dlq },
      { consumerName: 'killed', blockMs: 30_000 },
    );
    try {
      await consumer.start();
      await waitFor('blocked in XREADGROUP', async () => {
        const list = await redis.client('LIST');
        return String(list)
          .split('\n')
          .some((line) => line.includes('name=killed:read') && line.includes('cmd=xreadgroup'));
      });
      const killed = await redis.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
      expect(Number(killed)).toBeGreaterThan(0);

      await new StreamProducer({ redis, stream, producerName: 'test' }).publish(
        runRequested('after-kill'),
      );
      // Far below blockMs: the read is not merely waiting out its BLOCK.
      await waitFor('delivered after the kill', () => handled.length === 1, 5_000);
      await consumer.stop();
      expect(handled).toEqual(['after-kill']);
    } finally {
      await consumer.stop();
      redis.disconnect();
      await server.close();
    }
  });

  it('when the blocking connection goes silent without closing, then the watchdog reconnects and the entry whose reply was lost is handled', async () => {
    const server = await startTestRedis();
    const proxy = await startTcpProxy(server.port);
    const direct = createRedis(server.url);
    const viaProxy = createRedis(`redis://127.0.0.1:${proxy.port}`);
    const { stream, group, dlq } = uniqueNames('silent');
    const handled: string[] = [];
    const consumer = new StreamConsumer({
      redis: viaProxy,
      stream,
      group,
      deadLetterList: dlq,
      consumerName: 'silenced',
      handles: [RunRequestedSchema],
      blockMs: 300,
      handler: async (event, context) => {
        handled.push(`${event.runId}@${context.attempt}`);
        return true;
      },
    });
    try {
      await consumer.start();
      // The read connection is the newest one: the consumer opens it in start().
      await waitFor('blocked in XREADGROUP', async () => {
        const list = String(await direct.client('LIST'));
        return list
          .split('\n')
          .some((line) => line.includes('name=silenced:read') && line.includes('cmd=xreadgroup'));
      });
      proxy.silenceNewest();
      await new StreamProducer({ redis: direct, stream, producerName: 'test' }).publish(
        runRequested('lost-reply'),
      );

      await waitFor('handled after the watchdog', () => handled.length === 1, 15_000);
      await consumer.stop();
      // Redis delivered it to the silenced read (attempt 1, reply lost); the
      // consumer recovered it from its own pending list as attempt 2.
      expect(handled).toEqual(['lost-reply@2']);
      expect(await direct.xpending(stream, group)).toEqual([0, null, null, null]);
    } finally {
      await consumer.stop();
      viaProxy.disconnect();
      direct.disconnect();
      await proxy.close();
      await server.close();
    }
  });
});
