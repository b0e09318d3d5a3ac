import { BuildSucceededSchema, RunRequestedSchema } from '@reporunner/contracts';
import { describe, expect, it } from 'vitest';
import { type DeadLetter, StreamConsumer, StreamProducer } from '../src/index.js';
import {
  buildSucceeded,
  noBackoff,
  redisForThisFile,
  runRequested,
  runStarted,
  uniqueNames,
  waitFor,
} from './helpers.js';

const { redis } = await redisForThisFile();

describe('StreamConsumer basics', () => {
  it('when 1,000 events of mixed types arrive, then each handled type is handled once and the rest skipped, with nothing pending', async () => {
    const { stream, group, dlq } = uniqueNames('mixed');
    const producer = new StreamProducer({ redis, stream, producerName: 'test' });
    const events = Array.from({ length: 1_000 }, (_, i) =>
      i % 3 === 0
        ? runRequested(`run-${i}`)
        : i % 3 === 1
          ? buildSucceeded(`run-${i}`)
          : runStarted(`run-${i}`),
    );
    await producer.publishMany(events);

    const seen = new Map<string, number>();
    const consumer = new StreamConsumer({
      redis,
      stream,
      group,
      deadLetterList: dlq,
      handles: [RunRequestedSchema, BuildSucceededSchema],
      concurrency: 10,
      handler: async (event) => {
        seen.set(event.runId, (seen.get(event.runId) ?? 0) + 1);
        return true;
      },
    });
    await consumer.start();
    await waitFor(
      'all entries settled',
      () => consumer.counters.handled + consumer.counters.skipped === 1_000,
    );
    await consumer.stop();

    expect(seen.size).toBe(667);
    expect([...seen.values()].every((count) => count === 1)).toBe(true);
    expect(consumer.counters.handled).toBe(667);
    expect(consumer.counters.skipped).toBe(333);
    expect([consumer.handled, consumer.skipped, consumer.retried, consumer.deadLettered]).toEqual([
      667, 333, 0, 0,
    ]);
    expect(await redis.xpending(stream, group)).toEqual([0, null, null, null]);
    expect(await redis.llen(dlq)).toBe(0);
  });

  it('when a handler fails twice then succeeds, then it is called three times, acknowledged, and nothing is dead-lettered', async () => {
    const { stream, group, dlq } = uniqueNames('retry');
    const producer = new StreamProducer({ redis, stream, producerName: 'test' });
    await producer.publish(runRequested('run-1'));

    const attempts: number[] = [];
    const consumer = new StreamConsumer({
      redis,
      stream,
      group,
      deadLetterList: dlq,
      handles: [RunRequestedSchema],
      retryBackoff: noBackoff,
      handler: async (_event, context) => {
        attempts.push(context.attempt);
        if (context.attempt < 3) throw new Error(`failure ${context.attempt}`);
        return true;
      },
    });
    await consumer.start();
    await waitFor('handled', () => consumer.counters.handled === 1);
    await consumer.stop();

    expect(attempts).toEqual([1, 2, 3]);
    expect(consumer.counters.retried).toBe(2);
    expect(await redis.xpending(stream, group)).toEqual([0, null, null, null]);
    expect(await redis.llen(dlq)).toBe(0);
    expect(await redis.exists(`${stream}:${group}:failures`)).toBe(0);
  });

  it('when a handler always fails, then it is called exactly three times and one complete dead letter is written', async () => {
    const { stream, group, dlq } = uniqueNames('dlq');
    const producer = new StreamProducer({ redis, stream, producerName: 'test-producer' });
    const entryId = await producer.publish(runRequested('run-9'));

    let calls = 0;
    const consumer = new StreamConsumer({
      redis,
      stream,
      group,
      deadLetterList: dlq,
      consumerName: 'c1',
      handles: [RunRequestedSchema],
      retryBackoff: noBackoff,
      handler: async (_event, context) => {
        calls += 1;
        throw new Error(`boom ${context.attempt}`);
      },
    });
    await consumer.start();
    await waitFor('dead-lettered', () => consumer.counters.deadLettered === 1);
    await consumer.stop();

    expect(calls).toBe(3);
    expect(await redis.xpending(stream, group)).toEqual([0, null, null, null]);
    const letters = await redis.lrange(dlq, 0, -1);
    expect(letters).toHaveLength(1);
    const letter = JSON.parse(letters[0] ?? '{}') as DeadLetter;
    const [[, fields] = ['', []]] = await redis.xrange(stream, entryId, entryId);
    const eventId = fields[fields.indexOf('event_id') + 1];
    const payload = await redis.xrangeBuffer(stream, entryId, entryId);
    const payloadBytes = payload[0]?.[1][3];
    expect(letter).toMatchObject({
      stream,
      group,
      consumer: 'c1',
      entryId,
      eventId,
      typeName: 'reporunner.events.v1.RunRequested',
      payload: payloadBytes?.toString('base64'),
      attempts: 3,
      reason: 'max-attempts',
      lastError: 'boom 3',
      producer: 'test-producer',
    });
    expect(Date.parse(letter.firstFailureAt)).toBeLessThanOrEqual(Date.parse(letter.lastFailureAt));
    expect(Number.isNaN(Date.parse(letter.deadLetteredAt))).toBe(false);
  });
});
