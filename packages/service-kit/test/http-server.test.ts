import type { Server } from 'node:http';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, runReadiness, startHttpServer } from '../src/index.js';

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
    readiness: {
      redis: async () => {
        if (!redisUp) throw new Error('connection refused');
        return { status: 'Healthy' };
      },
      lag: async () => ({ status: 'Degraded', lag: 12 }),
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

describe('runReadiness', () => {
  it('when a check resolves with nothing, then it is reported Healthy', async () => {
    expect(await runReadiness({ a: async () => undefined })).toEqual({ a: { status: 'Healthy' } });
  });
});
