import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { BuildSucceededSchema, RunRequestedSchema } from '@reporunner/contracts';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { type DeadLetter, PermanentError, StreamConsumer, StreamProducer } from '../src/index.js';
import { buildSucceeded, redisForThisFile, runRequested, uniqueNames, waitFor } from './helpers.js';

const { redis } = await redisForThisFile();

async function deadLetters(list: string): Promise<DeadLetter[]> {
  return (await redis.lrange(list, 0, -1)).map((raw) => JSON.parse(raw) as DeadLetter);
}

describe('delivery across groups and consumers', () => {
  it('when two groups read one stream, then each receives every event; five consumers in a group share 5,000 events, none lost or handled twice', async () => {
    const { stream, group, dlq } = uniqueNames('share');
    const otherGroup = `${group}:other`;
    const producer = new StreamProducer({ redis, stream, producerName: 'test' });

    const shared = new Map<string, number>();
    const other = new Map<string, number>();
    const count = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
    const sharers = Array.from(
      { length: 5 },
      (_, n) =>
        new StreamConsumer({
          redis,
          stream,
          group,
          deadLetterList: dlq,
          consumerName: `sharer-${n}`,
          handles: [RunRequestedSchema],
          concurrency: 5,
          handler: async (event) => {
            count(shared, event.runId);
            return true;
          },
        }),
    );
    const single = new StreamConsumer({
      redis,
      stream,
      group: otherGroup,
      deadLetterList: dlq,
      handles: [RunRequestedSchema],
      concurrency: 10,
      prefetch: 100,
      handler: async (event) => {
        count(other, event.runId);
        return true;
      },
    });
    for (const consumer of [...sharers, single]) await consumer.start();
    for (let batch = 0; batch < 10; batch += 1) {
      await producer.publishMany(
        Array.from({ length: 500 }, (_, i) => runRequested(`run-${batch * 500 + i}`)),
      );
    }
    await waitFor('both groups done', () => shared.size === 5_000 && other.size === 5_000);
    for (const consumer of [...sharers, single]) await consumer.stop();

    expect([...shared.values()].every((n) => n === 1)).toBe(true);
    expect([...other.values()].every((n) => n === 1)).toBe(true);
    expect(sharers.reduce((sum, consumer) => sum + consumer.counters.handled, 0)).toBe(5_000);
    expect(sharers.reduce((sum, consumer) => sum + consumer.counters.retried, 0)).toBe(0);
    expect(single.counters.handled).toBe(5_000);
    expect(await redis.xpending(stream, group)).toEqual([0, null, null, null]);
    expect(await redis.xpending(stream, otherGroup)).toEqual([0, null, null, null]);
  });
});

describe('entries that cannot be handled', () => {
  it('when entries are corrupt, of an unknown type or missing fields, then they are dead-lettered at once and the consumer goes on', async () => {
    const { stream, group, dlq } = uniqueNames('corrupt');
    const type = 'reporunner.events.v1.RunRequested';
    const now = new Date().toISOString();
    const corrupt = await redis.xadd(
      stream,
      '*',
      'type',
      type,
      'payload',
      Buffer.from([0xff, 0xff, 0xff]),
      'event_id',
      'e1',
      'producer',
      'p',
      'published_at',
      now,
    );
    const unknown = await redis.xadd(
      stream,
      '*',
      'type',
      'reporunner.events.v1.Nope',
      'payload',
      'x',
      'event_id',
      'e2',
      'producer',
      'p',
      'published_at',
      now,
    );
    const noType = await redis.xadd(stream, '*', 'payload', 'x', 'event_id', 'e3');
    const noEventId = await redis.xadd(
      stream,
      '*',
      'type',
      type,
      'payload',
      '',
      'producer',
      'p',
      'published_at',
      now,
    );
    const noRunId = await redis.xadd(
      stream,
      '*',
      'type',
      type,
      'payload',
      '',
      'event_id',
      'e5',
      'producer',
      'p',
      'published_at',
      now,
    );
    const good = await new StreamProducer({ redis, stream, producerName: 'test' }).publish(
      runRequested('good'),
    );

    const handled: string[] = [];
    const consumer = new StreamConsumer({
      redis,
      stream,
      group,
      deadLetterList: dlq,
      handles: [RunRequestedSchema],
      handler: async (_event, context) => {
        handled.push(context.entryId);
        return true;
      },
    });
    await consumer.start();
    await waitFor(
      'all settled',
      () => consumer.counters.handled + consumer.counters.deadLettered === 6,
    );
    await consumer.stop();

    expect(handled).toEqual([good]);
    const letters = await deadLetters(dlq);
    expect(letters.map((l) => [l.entryId, l.reason, l.attempts])).toEqual([
      [corrupt, 'undecodable', 1],
      [unknown, 'undecodable', 1],
      [noType, 'undecodable', 1],
      [noEventId, 'undecodable', 1],
      [noRunId, 'undecodable', 1],
    ]);
    expect(letters[0]?.lastError).toMatch(
      /^payload is not a valid reporunner.events.v1.RunRequested/,
    );
    expect(letters[0]?.payload).toBe(Buffer.from([0xff, 0xff, 0xff]).toString('base64'));
    expect(letters[1]?.lastError).toBe('unknown event type "reporunner.events.v1.Nope"');
    expect(letters[2]).toMatchObject({
      typeName: null,
      eventId: 'e3',
      lastError: 'the entry has no `type` field',
    });
    expect(letters[3]?.lastError).toBe('the entry has no `event_id` field');
    expect(letters[4]?.lastError).toBe('reporunner.events.v1.RunRequested has no run_id');
    expect(await redis.xpending(stream, group)).toEqual([0, null, null, null]);
  });

  it('when a handler throws PermanentError, then the entry is dead-lettered after one call', async () => {
    const { stream, group, dlq } = uniqueNames('permanent');
    await new StreamProducer({ redis, stream, producerName: 'test' }).publish(runRequested('r'));
    let calls = 0;
    const consumer = new StreamConsumer({
      redis,
      stream,
      group,
      deadLetterList: dlq,
      handles: [RunRequestedSchema],
      handler: async () => {
        calls += 1;
        throw new PermanentError('repository does not exist');
      },
    });
    await consumer.start();
    await waitFor('dead-lettered', () => consumer.counters.deadLettered === 1);
    await consumer.stop();

    expect(calls).toBe(1);
    expect(await deadLetters(dlq)).toMatchObject([
      { reason: 'permanent-error', attempts: 1, lastError: 'repository does not exist' },
    ]);
  });
});

describe('an entry that keeps killing its consumer', () => {
  it('when it was delivered more than maxAttempts times without a result, then it is dead-lettered without another handler call', async () => {
    const { stream, group, dlq } = uniqueNames('poison');
    const entryId = await new StreamProducer({ redis, stream, producerName: 'test' }).publish(
      runRequested('poison'),
    );
    await redis.xgroup('CREATE', stream, group, '0');
    // Three deliveries to consumers that died before finishing.
    await redis.xreadgroup('GROUP', group, 'crashed', 'COUNT', 1, 'STREAMS', stream, '>');
    await redis.xclaim(stream, group, 'crashed-again', 0, entryId);
    await redis.xclaim(stream, group, 'crashed-once-more', 0, entryId);

    let calls = 0;
    const consumer = new StreamConsumer({
      redis,
      stream,
      group,
      deadLetterList: dlq,
      handles: [RunRequestedSchema],
      claimIdleMs: 50,
      claimIntervalMs: 25,
      handler: async () => {
        calls += 1;
        return true;
      },
    });
    await consumer.start();
    await waitFor('dead-lettered', () => consumer.counters.deadLettered === 1);
    await consumer.stop();

    expect(calls).toBe(0);
    expect(await deadLetters(dlq)).toMatchObject([
      {
        entryId,
        reason: 'max-attempts',
        attempts: 3,
        lastError: 'delivered 4 times without a result',
      },
    ]);
    expect(await redis.xpending(stream, group)).toEqual([0, null, null, null]);
  });
});

describe('entries deleted while pending', () => {
  it('when pending entries are deleted or trimmed away, then they are cleaned out and counted, never handed to a handler', async () => {
    const { stream, group, dlq } = uniqueNames('deleted');
    const producer = new StreamProducer({ redis, stream, producerName: 'test' });
    const ids = await producer.publishMany(
      Array.from({ length: 6 }, (_, i) => runRequested(`run-${i}`)),
    );
    await redis.xgroup('CREATE', stream, group, '0');
    // A consumer that read everything and then vanished.
    await redis.xreadgroup('GROUP', group, 'ghost', 'COUNT', 6, 'STREAMS', stream, '>');
    await redis.xdel(stream, ids[4] ?? '', ids[5] ?? '');
    await redis.xtrim(stream, 'MINID', ids[2] ?? '');

    const handled: string[] = [];
    const consumer = new StreamConsumer({
      redis,
      stream,
      group,
      deadLetterList: dlq,
      handles: [RunRequestedSchema],
      claimIdleMs: 100,
      claimIntervalMs: 50,
      concurrency: 10,
      handler: async (event, context) => {
        handled.push(`${event.runId}@${context.attempt}`);
        return true;
      },
    });
    await consumer.start();
    await waitFor(
      'all settled',
      () => consumer.counters.handled + consumer.counters.deletedWhilePending === 6,
    );
    await consumer.stop();

    expect(handled.sort()).toEqual(['run-2@2', 'run-3@2']);
    expect(consumer.counters.deletedWhilePending).toBe(4);
    expect(await redis.xpending(stream, group)).toEqual([0, null, null, null]);
  });

  it('when a restarted consumer finds its own pending entries deleted, then it cleans them out without calling the handler', async () => {
    const { stream, group, dlq } = uniqueNames('deleted-own');
    const producer = new StreamProducer({ redis, stream, producerName: 'test' });
    const ids = await producer.publishMany([runRequested('a'), runRequested('b')]);
    await redis.xgroup('CREATE', stream, group, '0');
    await redis.xreadgroup('GROUP', group, 'same-name', 'COUNT', 2, 'STREAMS', stream, '>');
    await redis.xdel(stream, ids[0] ?? '');

    const handled: string[] = [];
    const consumer = new StreamConsumer({
      redis,
      stream,
      group,
      deadLetterList: dlq,
      consumerName: 'same-name',
      handles: [RunRequestedSchema],
      handler: async (event, context) => {
        handled.push(`${event.runId}@${context.attempt}`);
        return true;
      },
    });
    await consumer.start();
    await waitFor(
      'all settled',
      () => consumer.counters.handled + consumer.counters.deletedWhilePending === 2,
    );
    await consumer.stop();

    expect(handled).toEqual(['b@2']);
    expect(consumer.counters.deletedWhilePending).toBe(1);
    expect(await redis.xpending(stream, group)).toEqual([0, null, null, null]);
  });
});

describe('handler context and logs', () => {
  it('when a handler logs, then its lines carry stream, group, consumer, entry id, event id, type and attempt', async () => {
    const { stream, group, dlq } = uniqueNames('logs');
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n')) if (line !== '') lines.push(JSON.parse(line));
        done();
      },
    });
    const producer = new StreamProducer({ redis, stream, producerName: 'gateway' });
    const before = Date.now();
    const entryId = await producer.publish(buildSucceeded('run-7'));
    let seen: Record<string, unknown> = {};
    const consumer = new StreamConsumer({
      redis,
      stream,
      group,
      deadLetterList: dlq,
      consumerName: 'logger-test',
      handles: [BuildSucceededSchema],
      logger: pino({ level: 'info' }, sink),
      handler: async (event, context) => {
        context.logger.info({ runId: event.runId }, 'build succeeded');
        seen = { ...context, publishedAt: context.publishedAt.getTime() };
        return true;
      },
    });
    await consumer.start();
    await waitFor('handled', () => consumer.counters.handled === 1);
    await consumer.stop();

    const line = lines.find((l) => l.msg === 'build succeeded');
    expect(line).toMatchObject({
      stream,
      group,
      consumer: 'logger-test',
      entryId,
      type: 'reporunner.events.v1.BuildSucceeded',
      attempt: 1,
      runId: 'run-7',
    });
    expect(line?.eventId).toBe(seen.eventId);
    expect(seen).toMatchObject({
      entryId,
      typeName: 'reporunner.events.v1.BuildSucceeded',
      attempt: 1,
      producer: 'gateway',
    });
    expect(seen.publishedAt).toBeGreaterThanOrEqual(before);
    expect(String(seen.eventId)).toMatch(/^[0-9a-f-]{36}$/);
    expect(lines.map((l) => l.msg)).toEqual([
      'consumer started',
      'build succeeded',
      'consumer stopped',
    ]);
  });

  it('when no consumer name is given, then each consumer gets a different one', () => {
    const make = () =>
      new StreamConsumer({
        redis,
        stream: `s-${randomUUID()}`,
        group: 'g',
        handles: [RunRequestedSchema],
        handler: async () => true,
      });
    const names = new Set(Array.from({ length: 50 }, () => make().consumerName));
    expect(names.size).toBe(50);
  });
});

describe('idle consumers', () => {
  it('when consumers have been idle too long, then the empty ones are removed and one with pending entries is kept', async () => {
    const { stream, group, dlq } = uniqueNames('idle-consumers');
    await new StreamProducer({ redis, stream, producerName: 'test' }).publish(runRequested('held'));
    await redis.xgroup('CREATE', stream, group, '$');
    await redis.xgroup('CREATECONSUMER', stream, group, 'gone-empty');
    await redis.xgroup('SETID', stream, group, '0');
    await redis.xreadgroup('GROUP', group, 'gone-busy', 'COUNT', 1, 'STREAMS', stream, '>');

    const consumer = new StreamConsumer({
      redis,
      stream,
      group,
      deadLetterList: dlq,
      consumerName: 'alive',
      handles: [RunRequestedSchema],
      claimIdleMs: 60_000,
      claimIntervalMs: 50,
      removeIdleConsumersAfterMs: 200,
      handler: async () => true,
    });
    await consumer.start();
    const names = async () =>
      ((await redis.xinfo('CONSUMERS', stream, group)) as unknown[][])
        .map((flat) => String(flat[1]))
        .sort();
    await waitFor('empty consumer removed', async () => !(await names()).includes('gone-empty'));
    expect(await names()).toEqual(['alive', 'gone-busy']);
    await consumer.stop();

    // A clean stop with nothing pending leaves the group too.
    expect(await names()).toEqual(['gone-busy']);
  });
});
