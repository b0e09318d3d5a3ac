import { RunRequestedSchema } from '@reporunner/contracts';
import { describe, expect, it } from 'vitest';
import { type DeadLetter, StreamConsumer, StreamProducer } from '../src/index.js';
import { startConsumerChild } from './child-process.js';
import { noBackoff, redisForThisFile, runRequested, uniqueNames, waitFor } from './helpers.js';

const { server, redis } = await redisForThisFile();

describe('a consumer killed with SIGKILL', () => {
  it('when it dies with entries in flight, then another consumer claims them after the idle threshold and the delivery count carries over', async () => {
    const { stream, group, dlq } = uniqueNames('sigkill');
    const producer = new StreamProducer({ redis, stream, producerName: 'test' });
    const ids = await producer.publishMany(
      Array.from({ length: 5 }, (_, i) => runRequested(`run-${i}`)),
    );

    const child = startConsumerChild({
      url: server.url,
      stream,
      group,
      consumerName: 'doomed',
      deadLetterList: dlq,
      behaviour: 'hang',
      concurrency: 5,
      backoffMs: [],
    });
    try {
      await waitFor(
        'five handlers in flight in the child',
        () => child.lines.filter((l) => l.startsWith('handling')).length === 5,
      );
    } finally {
      await child.kill();
    }

    const attempts = new Map<string, number>();
    const survivor = new StreamConsumer({
      redis,
      stream,
      group,
      deadLetterList: dlq,
      consumerName: 'survivor',
      handles: [RunRequestedSchema],
      concurrency: 5,
      claimIdleMs: 300,
      claimIntervalMs: 100,
      handler: async (_event, context) => {
        attempts.set(context.entryId, context.attempt);
        return true;
      },
    });
    await survivor.start();
    await waitFor('claimed entries handled', () => survivor.counters.handled === 5);
    await survivor.stop();

    expect([...attempts.keys()].sort()).toEqual([...ids].sort());
    expect([...attempts.values()]).toEqual([2, 2, 2, 2, 2]);
    expect(survivor.counters.claimed).toBe(5);
    expect(await redis.xpending(stream, group)).toEqual([0, null, null, null]);
  });

  it('when an always-failing consumer dies between attempts 2 and 3, then after restart it makes exactly one more attempt and dead-letters', async () => {
    const { stream, group, dlq } = uniqueNames('sigkill-dlq');
    const producer = new StreamProducer({ redis, stream, producerName: 'test' });
    const entryId = await producer.publish(runRequested('run-x'));

    const child = startConsumerChild({
      url: server.url,
      stream,
      group,
      consumerName: 'stable-name',
      deadLetterList: dlq,
      behaviour: 'fail',
      concurrency: 1,
      // No wait after attempt 1; after attempt 2 a wait the kill cuts short.
      backoffMs: [0, 600_000],
    });
    try {
      await child.waitForLine((line) => line === `failed ${entryId} 2`);
      // The second failure is in Redis's failure log before the kill.
      await waitFor('attempt 2 recorded', async () => {
        const last = await redis.hget(`${stream}:${group}:failures`, `${entryId}:last`);
        return last?.includes('child failure 2') ?? false;
      });
    } finally {
      await child.kill();
    }
    expect(child.lines.filter((line) => line.startsWith('handling'))).toEqual([
      `handling ${entryId} 1`,
      `handling ${entryId} 2`,
    ]);

    const calls: number[] = [];
    const restarted = new StreamConsumer({
      redis,
      stream,
      group,
      deadLetterList: dlq,
      consumerName: 'stable-name',
      handles: [RunRequestedSchema],
      retryBackoff: noBackoff,
      handler: async (_event, context) => {
        calls.push(context.attempt);
        throw new Error(`restarted failure ${context.attempt}`);
      },
    });
    await restarted.start();
    await waitFor('dead-lettered', () => restarted.counters.deadLettered === 1);
    await restarted.stop();

    expect(calls).toEqual([3]);
    const letters = (await redis.lrange(dlq, 0, -1)).map((raw) => JSON.parse(raw) as DeadLetter);
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      entryId,
      attempts: 3,
      reason: 'max-attempts',
      lastError: 'restarted failure 3',
    });
    expect(Date.parse(letters[0]?.firstFailureAt ?? '')).toBeLessThan(
      Date.parse(letters[0]?.lastFailureAt ?? ''),
    );
    expect(await redis.xpending(stream, group)).toEqual([0, null, null, null]);
    expect(await redis.exists(`${stream}:${group}:failures`)).toBe(0);
  });
});
