import { Writable } from 'node:stream';
import { RunRequestedSchema } from '@reporunner/contracts';
import { startTestRedis, type TestRedis } from '@reporunner/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis, redactRedisUrl, StreamConsumer, StreamProducer } from '../src/index.js';
import { runRequested, uniqueNames, waitFor } from './helpers.js';

let server: TestRedis;

beforeAll(async () => {
  server = await startTestRedis();
  const admin = server.client();
  await admin.acl('SETUSER', 'builder', 'on', '>s3cret-Pa55', '~*', '&*', '+@all');
  admin.disconnect();
});

afterAll(async () => {
  await server.close();
});

function memoryLogger(): { logger: pino.Logger; text: () => string } {
  let written = '';
  const sink = new Writable({
    write(chunk, _encoding, done) {
      written += String(chunk);
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), text: () => written };
}

describe('redactRedisUrl', () => {
  it('when the URL has a password, then it is replaced by ***', () => {
    expect(redactRedisUrl('redis://builder:s3cret@redis.internal:6380/2')).toBe(
      'redis://builder:***@redis.internal:6380/2',
    );
    expect(redactRedisUrl('rediss://:only-password@host')).toBe('rediss://:***@host');
    expect(redactRedisUrl('redis://host:6379')).toBe('redis://host:6379');
  });

  it('when the string is not a URL, then nothing of it is returned', () => {
    expect(redactRedisUrl('s3cret not a url')).toBe('<invalid redis url>');
  });
});

describe('createRedis', () => {
  it('when given an ACL user and password, then it connects as that user and sets the connection name', async () => {
    const port = new URL(server.url).port;
    const redis = createRedis(`redis://builder:s3cret-Pa55@127.0.0.1:${port}`, {
      connectionName: 'svc-test',
    });
    try {
      expect(await redis.acl('WHOAMI')).toBe('builder');
      expect(await redis.client('GETNAME')).toBe('svc-test');
    } finally {
      redis.disconnect();
    }
  });

  it('when the password is wrong or the server goes away, then the logs never contain the password', async () => {
    const port = new URL(server.url).port;
    const { logger, text } = memoryLogger();
    const wrong = createRedis(`redis://builder:Wr0ng-Secret@127.0.0.1:${port}`, {
      logger,
      redisOptions: { maxRetriesPerRequest: 0, retryStrategy: () => null },
    });
    await expect(wrong.ping()).rejects.toThrow();
    wrong.disconnect();

    await waitFor('an error logged', () => text().includes('redis connection error'));
    expect(text()).not.toContain('Wr0ng-Secret');
    expect(text()).toContain(`redis://builder:***@127.0.0.1:${port}`);
  });

  it('when the URL is not a Redis URL, then it throws without echoing it', () => {
    expect(() => createRedis('http://user:s3cret@host')).toThrow(
      'must start with redis:// or rediss://, not http://',
    );
    expect(() => createRedis('s3cret')).toThrow(/^createRedis: the Redis URL is not a valid URL$/);
  });

  it('when the URL is rediss://, then the connection uses TLS with the host as server name', () => {
    const redis = createRedis('rediss://user:pw@redis.example.test:6380', {
      redisOptions: { lazyConnect: true },
    });
    expect(redis.options.tls).toEqual({ servername: 'redis.example.test' });
    const byIp = createRedis('rediss://10.1.2.3:6380', { redisOptions: { lazyConnect: true } });
    expect(byIp.options.tls).toEqual({});
    byIp.disconnect();
    expect(redis.options.username).toBe('user');
    expect(redis.options.password).toBe('pw');
    redis.disconnect();
  });

  it('when the server speaks TLS only, then a rediss:// URL with its CA publishes and consumes', async () => {
    const tlsServer = await startTestRedis({ tls: true });
    const redis = createRedis(tlsServer.url, {
      redisOptions: { tls: { ca: tlsServer.tlsCa ?? '' } },
    });
    const { stream, group, dlq } = uniqueNames('tls');
    const handled: string[] = [];
    const consumer = new StreamConsumer({
      redis,
      stream,
      group,
      deadLetterList: dlq,
      handles: [RunRequestedSchema],
      handler: async (event) => {
        handled.push(event.runId);
        return true;
      },
    });
    try {
      expect(tlsServer.url.startsWith('rediss://')).toBe(true);
      await consumer.start();
      await new StreamProducer({ redis, stream, producerName: 'test' }).publish(
        runRequested('over-tls'),
      );
      await waitFor('handled over TLS', () => handled.length === 1);
      expect(handled).toEqual(['over-tls']);
      expect(redis.options.tls).toMatchObject({ ca: tlsServer.tlsCa });
    } finally {
      await consumer.stop();
      redis.disconnect();
      await tlsServer.close();
    }
  });

  it('when a consumer is refused AUTH on reconnect, then no log line at any level contains the password', async () => {
    const port = new URL(server.url).port;
    const admin = server.client();
    await admin.acl('SETUSER', 'rotating', 'on', '>Old-Pa55word', '~*', '&*', '+@all');
    const { logger, text } = memoryLogger();
    const redis = createRedis(`redis://rotating:Old-Pa55word@127.0.0.1:${port}`, { logger });
    const { stream, group, dlq } = uniqueNames('rotated');
    const consumer = new StreamConsumer({
      redis,
      stream,
      group,
      deadLetterList: dlq,
      handles: [RunRequestedSchema],
      blockMs: 200,
      logger,
      handler: async () => true,
    });
    try {
      await consumer.start();
      // The password is rotated and every connection of the user dropped:
      // each reconnect is now refused with WRONGPASS.
      await admin.acl('SETUSER', 'rotating', 'resetpass', '>New-Pa55word');
      await admin.client('KILL', 'USER', 'rotating');
      await waitFor('refusals logged', () => text().includes('WRONGPASS'));
      await consumer.stop({ timeoutMs: 0 });

      expect(text()).not.toContain('Old-Pa55word');
      expect(text()).not.toContain('New-Pa55word');
    } finally {
      await consumer.stop();
      redis.disconnect();
      admin.disconnect();
    }
  });
});
