import type { Server } from 'node:http';
import { Writable } from 'node:stream';
import { HealthCheckError } from '@godaddy/terminus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, redisPingCheck, startHttpServer } from '../src/index.js';

const lines: Record<string, unknown>[] = [];
const sink = new Writable({
  write(chunk, _encoding, done) {
    for (const line of String(chunk).split('\n')) if (line !== '') lines.push(JSON.parse(line));
    done();
  },
});

let server: Server;
let base: string;
let redisUp = true;

beforeAll(async () => {
  const started = await startHttpServer({
    logger: createLogger('test', { destination: sink }),
    port: 0,
    host: '127.0.0.1',
    readiness: async () => {
      const report = {
        redis: redisUp
          ? { status: 'Healthy' }
          : { status: 'Unhealthy', error: 'connection refused' },
        lag: { status: 'Degraded', lag: 12 },
      };
      if (!redisUp) throw new HealthCheckError('readiness check failed', report);
      return report;
    },
    onShutdown: async () => {},
  });
  server = started.server;
  base = `http://127.0.0.1:${started.port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe('startHttpServer', () => {
  it('when started on port 0, then it logs the bound port', () => {
    const listening = lines.find((line) => line.msg === 'http server listening');
    expect(listening).toMatchObject({ service: 'test', host: '127.0.0.1' });
    expect(`http://127.0.0.1:${listening?.port}`).toBe(base);
  });

  it('when /health/live is asked, then it answers 200', async () => {
    const response = await fetch(`${base}/health/live`);
    expect(response.status).toBe(200);
  });

  it('when every readiness check passes, then /health/ready answers 200 with each result', async () => {
    const response = await fetch(`${base}/health/ready`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      status: 'ok',
      info: { redis: { status: 'Healthy' }, lag: { status: 'Degraded', lag: 12 } },
      details: { redis: { status: 'Healthy' }, lag: { status: 'Degraded', lag: 12 } },
    });
  });

  it('when a readiness check fails, then /health/ready answers 503 naming it', async () => {
    redisUp = false;
    try {
      const response = await fetch(`${base}/health/ready`);
      expect(response.status).toBe(503);
      expect(await response.json()).toEqual({
        status: 'error',
        error: {
          redis: { status: 'Unhealthy', error: 'connection refused' },
          lag: { status: 'Degraded', lag: 12 },
        },
        details: {
          redis: { status: 'Unhealthy', error: 'connection refused' },
          lag: { status: 'Degraded', lag: 12 },
        },
      });
    } finally {
      redisUp = true;
    }
  });

  it('when another path is asked and there is no app, then it answers 404', async () => {
    const response = await fetch(`${base}/runs`);
    expect(response.status).toBe(404);
  });
});

describe('redisPingCheck', () => {
  it('when the connection is not ready, then it is Unhealthy at once', async () => {
    const check = redisPingCheck({ status: 'reconnecting', ping: () => new Promise(() => {}) });
    expect(await check.check()).toEqual({
      status: 'Unhealthy',
      details: { error: 'redis connection is reconnecting' },
    });
  });

  it('when PING does not answer in time, then it is Unhealthy', async () => {
    const check = redisPingCheck({ status: 'ready', ping: () => new Promise(() => {}) }, 50);
    expect(await check.check()).toEqual({
      status: 'Unhealthy',
      details: { error: 'no answer in 50 ms' },
    });
  });
});
