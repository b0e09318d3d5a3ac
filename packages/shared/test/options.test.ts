import { RunRequestedSchema } from '@reporunner/contracts';
import { startTestRedis, type TestRedis } from '@reporunner/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigurationError,
  createRedis,
  exponentialBackoff,
  StreamConsumer,
} from '../src/index.js';
import { uniqueNames } from './helpers.js';

let server: TestRedis;

beforeAll(async () => {
  server = await startTestRedis();
});

afterAll(async () => {
  await server.close();
});

describe('consumer options', () => {
  it('when an option is out of range, then the constructor throws ConfigurationError naming it', () => {
    const redis = new Redis(server.url, { lazyConnect: true });
    const base = {
      redis,
      stream: 's',
      group: 'g',
      handles: [RunRequestedSchema],
      handler: async () => true,
    };
    expect(() => new StreamConsumer({ ...base, concurrency: 0 })).toThrow(ConfigurationError);
    expect(() => new StreamConsumer({ ...base, concurrency: 0 })).toThrow(
      '`concurrency` must be an integer >= 1',
    );
    expect(() => new StreamConsumer({ ...base, maxAttempts: 0 })).toThrow('`maxAttempts`');
    expect(() => new StreamConsumer({ ...base, handles: [] })).toThrow(
      '`handles` lists no event type',
    );
    expect(() => new StreamConsumer({ ...base, prefetch: -1 })).toThrow('`prefetch`');
    redis.disconnect();
  });

  it('when the connection times commands out before BLOCK ends, then start() reports it', async () => {
    const redis = createRedis(server.url, { redisOptions: { commandTimeout: 1_000 } });
    const { stream, group } = uniqueNames('timeout');
    const consumer = new StreamConsumer({
      redis,
      stream,
      group,
      blockMs: 5_000,
      handles: [RunRequestedSchema],
      handler: async () => true,
    });
    await expect(consumer.start()).rejects.toThrow(
      "StreamConsumer: the connection's commandTimeout (1000 ms) must be longer than blockMs (5000 ms)",
    );
    await consumer.stop();
    redis.disconnect();
  });
});

describe('exponentialBackoff', () => {
  it('when attempts fail, then delays double from the base, stay within jitter bounds and cap at the maximum', () => {
    const backoff = exponentialBackoff({ baseMs: 100, maxMs: 1_000 });
    for (let i = 0; i < 200; i += 1) {
      const first = backoff(1);
      const third = backoff(3);
      const tenth = backoff(10);
      expect(first).toBeGreaterThanOrEqual(50);
      expect(first).toBeLessThanOrEqual(100);
      expect(third).toBeGreaterThanOrEqual(200);
      expect(third).toBeLessThanOrEqual(400);
      expect(tenth).toBeGreaterThanOrEqual(500);
      expect(tenth).toBeLessThanOrEqual(1_000);
    }
  });
});
