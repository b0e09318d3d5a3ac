import { getContainerRuntimeClient } from 'testcontainers';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestRedis, type TestRedis } from '../src/index.js';

type Mode = 'process' | 'container';

// Both kinds of server when a Docker engine answers; the process kind alone
// otherwise, said out loud so that a run without Docker is not mistaken for
// one that covered containers. REPORUNNER_TEST_REDIS_MODES picks explicitly.
async function modesToTest(): Promise<Mode[]> {
  const wanted = process.env.REPORUNNER_TEST_REDIS_MODES;
  if (wanted) return wanted.split(',') as Mode[];
  try {
    await getContainerRuntimeClient();
    return ['process', 'container'];
  } catch {
    console.warn('test Redis (container) not tested: no Docker engine is reachable');
    return ['process'];
  }
}

const modes = await modesToTest();

describe.each(modes)('test Redis (%s)', (mode) => {
  const servers: TestRedis[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.close()));
  });

  it('keeps data across a restart when append-only is on', async () => {
    const redis = await startTestRedis({ mode, appendOnly: true });
    servers.push(redis);
    const client = redis.client();
    client.on('error', () => {});
    await client.set('kept', '1');

    await redis.restart();

    expect(await client.get('kept')).toBe('1');
    expect(redis.port).not.toBe(6379);
    client.disconnect();
  });

  it('loses data on a wiped restart and refuses connections while stopped', async () => {
    const redis = await startTestRedis({ mode, appendOnly: true });
    servers.push(redis);
    const client = redis.client();
    client.on('error', () => {});
    await client.set('lost', '1');

    await redis.stop();
    const impatient = redis.client();
    impatient.options.maxRetriesPerRequest = 0;
    impatient.options.enableOfflineQueue = false;
    impatient.on('error', () => {});
    await expect(impatient.ping()).rejects.toThrow();
    impatient.disconnect();
    await redis.start({ wipe: true });

    expect(await client.get('lost')).toBeNull();
    client.disconnect();
  });
});

describe.each(modes)('test Redis with TLS (%s)', (mode) => {
  it('serves rediss:// only, trusted through tlsCa, and survives a restart', async () => {
    const redis = await startTestRedis({ mode, tls: true });
    try {
      expect(redis.url).toBe(`rediss://127.0.0.1:${redis.port}`);
      expect(redis.tlsCa).toMatch(/^-----BEGIN CERTIFICATE-----/);
      const client = redis.client();
      client.on('error', () => {});
      expect(await client.ping()).toBe('PONG');
      await redis.restart();
      expect(await client.ping()).toBe('PONG');
      client.disconnect();
    } finally {
      await redis.close();
    }
  });
});
