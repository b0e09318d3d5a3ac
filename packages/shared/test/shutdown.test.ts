import { setTimeout as sleep } from 'node:timers/promises';
import { RunRequestedSchema } from '@reporunner/contracts';
import { describe, expect, it } from 'vitest';
import { createRedis, StreamConsumer, StreamProducer } from '../src/index.js';
import { noBackoff, redisForThisFile, runRequested, uniqueNames, waitFor } from './helpers.js';

const { server, redis } = await redisForThisFile();

async function pendingIds(stream: string, group: string): Promise<string[]> {
  const rows = (await redis.xpending(stream, group, '-', '+', 10_000)) as [string][];
  return rows.map(([id]) => id);
}

describe('StreamConsumer.stop()', () => {
  it('when stop() begins while an idle claim awaits Redis, then the claimed entry is handed back with its delivery count restored and no handler runs', async () => {
    const { stream, group, dlq } = uniqueNames('stop-claim');
    await redis.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
    const producer = new StreamProducer({ redis, stream, producerName: 'test' });
    const [id] = await producer.publishMany([runRequested('run-left')]);
    await redis.xreadgroup('GROUP', group, 'gone', 'COUNT', 1, 'STREAMS', stream, '>');

    // The claim reads delivery counts with XPENDING from the claimed id;
    // holding that reply keeps the claim in flight while stop() begins.
    const own = createRedis(server.url);
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let claimWaiting = false;
    const xpending = own.xpending.bind(own) as (...args: unknown[]) => Promise<unknown>;
    Object.assign(own, {
      xpending: async (...args: unknown[]) => {
        if (args[2] === id) {
          claimWaiting = true;
          await gate;
        }
        return xpending(...args);
      },
    });
    const handled: string[] = [];
    const consumer = new StreamConsumer({
      redis: own,
      stream,
      group,
      deadLetterList: dlq,
      consumerName: 'claimer',
      handles: [RunRequestedSchema],
      claimIdleMs: 50,
      claimIntervalMs: 20,
      handler: async (_event, context) => {
        handled.push(context.entryId);
        return true;
      },
    });
    await consumer.start();
    await waitFor('the idle claim to await its delivery counts', () => claimWaiting);

    const stopping = consumer.stop();
    await sleep(50);
    release();
    await stopping;
    own.disconnect();

    expect(handled).toEqual([]);
    const rows = (await redis.xpending(stream, group, '-', '+', 10)) as [
      string,
      string,
      number,
      number,
    ][];
    expect(rows.map(([entryId, , , deliveries]) => [entryId, deliveries])).toEqual([[id, 1]]);
  });

  it('when stopped during a burst, then in-flight handlers finish and are acknowledged, and nothing completed is redelivered', async () => {
    const { stream, group, dlq } = uniqueNames('stop-burst');
    const producer = new StreamProducer({ redis, stream, producerName: 'test' });
    const ids = await producer.publishMany(
      Array.from({ length: 300 }, (_, i) => runRequested(`run-${i}`)),
    );

    const started = new Set<string>();
    const completed = new Set<string>();
    const first = new StreamConsumer({
      redis,
      stream,
      group,
      deadLetterList: dlq,
      consumerName: 'first',
      handles: [RunRequestedSchema],
      concurrency: 20,
      prefetch: 30,
      handler: async (_event, context) => {
        started.add(context.entryId);
        await sleep(20);
        completed.add(context.entryId);
        return true;
      },
    });
    await first.start();
    await waitFor('a burst in flight', () => completed.size >= 40);
    await first.stop();

    expect([...started].filter((id) => !completed.has(id))).toEqual([]);
    const pending = await pendingIds(stream, group);
    expect(pending.filter((id) => completed.has(id))).toEqual([]);

    const attemptsSeen = new Map<string, number>();
    const second = new StreamConsumer({
      redis,
      stream,
      group,
      deadLetterList: dlq,
      consumerName: 'second',
      handles: [RunRequestedSchema],
      concurrency: 20,
      claimIdleMs: 200,
      claimIntervalMs: 50,
      handler: async (_event, context) => {
        attemptsSeen.set(context.entryId, context.attempt);
        return true;
      },
    });
    await second.start();
    await waitFor('the rest handled', () => completed.size + attemptsSeen.size === 300);
    await second.stop();

    expect([...attemptsSeen.keys()].filter((id) => completed.has(id))).toEqual([]);
    expect(new Set([...completed, ...attemptsSeen.keys()])).toEqual(new Set(ids));
    // Read-ahead entries handed back by stop() keep their delivery count: their first call is attempt 1.
    expect(new Set(attemptsSeen.values())).toEqual(new Set([1]));
    expect(await pendingIds(stream, group)).toEqual([]);
  });

  it('when a handler fails during stop(), then its attempt stays counted and it is retried after a restart', async () => {
    const { stream, group, dlq } = uniqueNames('stop-fail');
    const producer = new StreamProducer({ redis, stream, producerName: 'test' });
    const entryId = await producer.publish(runRequested('run-1'));

    let release: () => void = () => {};
    const stopping = new Promise<void>((resolve) => {
      release = resolve;
    });
    const attempts: number[] = [];
    const consumer = new StreamConsumer({
      redis,
      stream,
      group,
      deadLetterList: dlq,
      consumerName: 'stable',
      handles: [RunRequestedSchema],
      retryBackoff: noBackoff,
      handler: async (_event, context) => {
        attempts.push(context.attempt);
        await stopping;
        throw new Error('failed while stopping');
      },
    });
    await consumer.start();
    await waitFor('handler running', () => attempts.length === 1);
    const stopped = consumer.stop();
    release();
    await stopped;

    expect(attempts).toEqual([1]);
    const rows = (await redis.xpending(stream, group, '-', '+', 10)) as [
      string,
      string,
      number,
      number,
    ][];
    expect(rows.map(([id, owner, , count]) => [id, owner, count])).toEqual([
      [entryId, 'stable', 1],
    ]);

    const restarted = new StreamConsumer({
      redis,
      stream,
      group,
      deadLetterList: dlq,
      consumerName: 'stable',
      handles: [RunRequestedSchema],
      handler: async (_event, context) => {
        attempts.push(context.attempt);
        return true;
      },
    });
    await restarted.start();
    await waitFor('retried', () => restarted.counters.handled === 1);
    await restarted.stop();

    expect(attempts).toEqual([1, 2]);
    expect(await pendingIds(stream, group)).toEqual([]);
    expect(await redis.llen(dlq)).toBe(0);
  });

  it('when stop() is called twice, then the second call waits on the first', async () => {
    const { stream, group, dlq } = uniqueNames('stop-twice');
    let finish: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const consumer = new StreamConsumer({
      redis,
      stream,
      group,
      deadLetterList: dlq,
      handles: [RunRequestedSchema],
      handler: async () => {
        await gate;
        return true;
      },
    });
    await consumer.start();
    await new StreamProducer({ redis, stream, producerName: 'test' }).publish(runRequested('r'));
    await waitFor('handler running', () => consumer.inFlight === 1);

    const order: string[] = [];
    const firstStop = consumer.stop().then(() => order.push('first'));
    const secondStop = consumer.stop().then(() => order.push('second'));
    expect(consumer.stop()).toBe(consumer.stop());
    finish();
    await Promise.all([firstStop, secondStop]);

    expect(order).toEqual(['first', 'second']);
    expect(consumer.counters.handled).toBe(1);
    expect(await pendingIds(stream, group)).toEqual([]);
  });

  it('when a handler outlives the stop timeout, then stop() returns, aborts its signal, and leaves the entry pending', async () => {
    const { stream, group, dlq } = uniqueNames('stop-timeout');
    let aborted = false;
    const consumer = new StreamConsumer({
      redis,
      stream,
      group,
      deadLetterList: dlq,
      handles: [RunRequestedSchema],
      handler: async (_event, context) => {
        await new Promise<void>((resolve) =>
          context.signal.addEventListener('abort', () => resolve()),
        );
        aborted = true;
        return false;
      },
    });
    await consumer.start();
    const entryId = await new StreamProducer({ redis, stream, producerName: 'test' }).publish(
      runRequested('r'),
    );
    await waitFor('handler running', () => consumer.inFlight === 1);
    await consumer.stop({ timeoutMs: 100 });

    await waitFor('handler saw the abort', () => aborted);
    expect(await pendingIds(stream, group)).toEqual([entryId]);
  });

  it('when a consumer stops with nothing pending, then it leaves the group; with an entry pending, it stays listed', async () => {
    const { stream, group, dlq } = uniqueNames('stop-leave');
    const consumerNames = async (): Promise<string[]> => {
      const rows = (await redis.xinfo('CONSUMERS', stream, group)) as unknown[][];
      return rows.map((row) => String(row[row.indexOf('name') + 1])).sort();
    };
    const start = async (consumerName: string, handler: () => Promise<boolean>) => {
      const consumer = new StreamConsumer({
        redis,
        stream,
        group,
        deadLetterList: dlq,
        consumerName,
        handles: [RunRequestedSchema],
        handler,
      });
      await consumer.start();
      return consumer;
    };
    const producer = new StreamProducer({ redis, stream, producerName: 'test' });

    let handled = 0;
    const clean = await start('clean', async () => {
      handled += 1;
      return true;
    });
    await producer.publish(runRequested('done'));
    await waitFor('entry handled', () => handled === 1);
    expect(await consumerNames()).toEqual(['clean']);
    await clean.stop();
    expect(await consumerNames()).toEqual([]);

    let release: () => void = () => {};
    const stuck = await start(
      'stuck',
      () =>
        new Promise<boolean>((resolve) => {
          release = () => resolve(false);
        }),
    );
    const entryId = await producer.publish(runRequested('held'));
    await waitFor('handler running', () => stuck.inFlight === 1);
    await stuck.stop({ timeoutMs: 50 });
    release();

    expect(await consumerNames()).toEqual(['stuck']);
    expect(await pendingIds(stream, group)).toEqual([entryId]);
  });
});
