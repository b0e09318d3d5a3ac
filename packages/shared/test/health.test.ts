import { HealthCheckError } from '@godaddy/terminus';
import { RunRequestedSchema } from '@reporunner/contracts';
import { startTestRedis } from '@reporunner/testing';
import { describe, expect, it } from 'vitest';
import {
  createRedis,
  DeadLetterHealthCheck,
  StreamConsumer,
  StreamLagHealthCheck,
  StreamProducer,
  terminusReadiness,
} from '../src/index.js';
import { redisForThisFile, runRequested, uniqueNames } from './helpers.js';

const { redis } = await redisForThisFile();

async function backlog(count: number) {
  const { stream, group } = uniqueNames('health');
  await redis.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
  const producer = new StreamProducer({ redis, stream, producerName: 'test' });
  if (count > 0)
    await producer.publishMany(Array.from({ length: count }, (_, i) => runRequested(`r${i}`)));
  return new StreamLagHealthCheck({
    redis,
    stream,
    group,
    warningThreshold: 10,
    unhealthyThreshold: 20,
  });
}

describe('StreamLagHealthCheck', () => {
  it('when the backlog is below the warning threshold, then it is Healthy with details', async () => {
    const result = await (await backlog(9)).check();
    expect(result.status).toBe('Healthy');
    expect(result.details).toMatchObject({
      lag: 9,
      undelivered: 9,
      pending: 0,
      consumers: 0,
      lastDeliveredId: '0-0',
    });
  });

  it('when the backlog reaches the warning threshold, then it is Degraded', async () => {
    expect((await (await backlog(10)).check()).status).toBe('Degraded');
    expect((await (await backlog(19)).check()).status).toBe('Degraded');
  });

  it('when the backlog reaches the unhealthy threshold, then it is Unhealthy', async () => {
    expect((await (await backlog(20)).check()).status).toBe('Unhealthy');
  });

  it('when delivered entries are not acknowledged, then they count in the backlog', async () => {
    const { stream, group } = uniqueNames('health-pending');
    const producer = new StreamProducer({ redis, stream, producerName: 'test' });
    await producer.publishMany(Array.from({ length: 12 }, (_, i) => runRequested(`r${i}`)));
    await redis.xgroup('CREATE', stream, group, '0');
    await redis.xreadgroup('GROUP', group, 'c', 'COUNT', 5, 'STREAMS', stream, '>');
    const check = new StreamLagHealthCheck({
      redis,
      stream,
      group,
      warningThreshold: 10,
      unhealthyThreshold: 20,
    });
    const result = await check.check();
    expect(result.status).toBe('Degraded');
    expect(result.details).toMatchObject({ lag: 12, undelivered: 7, pending: 5, consumers: 1 });
  });

  it('when an entry was deleted so Redis cannot tell the lag, then it is Degraded, never Healthy', async () => {
    const { stream, group } = uniqueNames('health-unknown');
    const producer = new StreamProducer({ redis, stream, producerName: 'test' });
    const ids = await producer.publishMany([
      runRequested('a'),
      runRequested('b'),
      runRequested('c'),
    ]);
    await redis.xgroup('CREATE', stream, group, '0');
    await redis.xdel(stream, ids[1] ?? '');
    const check = new StreamLagHealthCheck({
      redis,
      stream,
      group,
      warningThreshold: 10,
      unhealthyThreshold: 20,
    });
    const result = await check.check();
    expect(result.status).toBe('Degraded');
    expect(result.details).toMatchObject({ lag: null, undelivered: null, reason: 'lag-unknown' });
  });

  it('when the group has consumers working it, then getLag reports the same numbers', async () => {
    const { stream, group, dlq } = uniqueNames('health-lag');
    const consumer = new StreamConsumer({
      redis,
      stream,
      group,
      deadLetterList: dlq,
      handles: [RunRequestedSchema],
      handler: async () => true,
    });
    await consumer.start();
    const lag = await consumer.getLag();
    await consumer.stop();
    expect(lag).toMatchObject({
      stream,
      group,
      groupExists: true,
      undelivered: 0,
      pending: 0,
      lag: 0,
      consumers: 1,
    });
  });
});

describe('DeadLetterHealthCheck', () => {
  it('when the list is short, long or longer, then it is Healthy, Degraded or Unhealthy', async () => {
    const { dlq } = uniqueNames('dlq-health');
    const check = new DeadLetterHealthCheck({
      redis,
      list: dlq,
      warningThreshold: 2,
      unhealthyThreshold: 4,
    });
    expect(await check.check()).toEqual({
      status: 'Healthy',
      details: { list: dlq, depth: 0, warningThreshold: 2, unhealthyThreshold: 4 },
    });
    await redis.rpush(dlq, 'a', 'b');
    expect((await check.check()).status).toBe('Degraded');
    await redis.rpush(dlq, 'c', 'd');
    expect((await check.check()).status).toBe('Unhealthy');
  });
});

describe('terminusReadiness', () => {
  it('when a check is Degraded, then the service stays ready and the details are returned', async () => {
    const { dlq } = uniqueNames('ready');
    await redis.rpush(dlq, 'x');
    const readiness = terminusReadiness({
      dlq: new DeadLetterHealthCheck({
        redis,
        list: dlq,
        warningThreshold: 1,
        unhealthyThreshold: 5,
      }),
    });
    expect(await readiness()).toEqual({
      dlq: { status: 'Degraded', list: dlq, depth: 1, warningThreshold: 1, unhealthyThreshold: 5 },
    });
  });

  it('when a check is Unhealthy, then readiness throws HealthCheckError with the details', async () => {
    const { dlq } = uniqueNames('unready');
    await redis.rpush(dlq, 'x');
    const readiness = terminusReadiness({
      dlq: new DeadLetterHealthCheck({
        redis,
        list: dlq,
        warningThreshold: 1,
        unhealthyThreshold: 1,
      }),
    });
    const error = await readiness().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(HealthCheckError);
    expect((error as HealthCheckError).causes).toEqual({
      dlq: { status: 'Unhealthy', list: dlq, depth: 1, warningThreshold: 1, unhealthyThreshold: 1 },
    });
  });
});

describe('health with Redis stopped', () => {
  it('when Redis cannot be reached, then both checks are Unhealthy', async () => {
    const own = await startTestRedis();
    const client = createRedis(own.url);
    const { stream, group } = uniqueNames('down');
    await client.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
    const lagCheck = new StreamLagHealthCheck({
      redis: client,
      stream,
      group,
      warningThreshold: 1,
      unhealthyThreshold: 2,
    });
    const dlqCheck = new DeadLetterHealthCheck({
      redis: client,
      warningThreshold: 1,
      unhealthyThreshold: 2,
    });
    expect((await lagCheck.check()).status).toBe('Healthy');

    await own.stop();
    try {
      const lag = await lagCheck.check();
      const dlq = await dlqCheck.check();
      expect(lag.status).toBe('Unhealthy');
      expect(dlq.status).toBe('Unhealthy');
      expect(lag.details).toMatchObject({ stream, group });
      expect(typeof lag.details.error).toBe('string');
    } finally {
      client.disconnect();
      await own.close();
    }
  });
});

describe('terminusReadiness with a list', () => {
  it('when given a list of checks, then the report is keyed by their names', async () => {
    const { stream, group, dlq } = uniqueNames('ready-list');
    await redis.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
    const readiness = terminusReadiness([
      new StreamLagHealthCheck({
        redis,
        stream,
        group,
        warningThreshold: 1,
        unhealthyThreshold: 2,
      }),
      new DeadLetterHealthCheck({ redis, list: dlq, warningThreshold: 1, unhealthyThreshold: 2 }),
    ]);
    const report = await readiness();
    expect(Object.keys(report)).toEqual([`stream-lag:${stream}:${group}`, `dead-letters:${dlq}`]);
    expect(report[`dead-letters:${dlq}`]).toEqual({
      status: 'Healthy',
      list: dlq,
      depth: 0,
      warningThreshold: 1,
      unhealthyThreshold: 2,
    });
  });
});
