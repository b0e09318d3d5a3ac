import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startTestRedis, type TestRedis } from '@reporunner/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, postRun } from '../src/api.js';
import { ServiceProcess } from '../src/service-process.js';

let server: TestRedis;
let dir: string;
let orchestrator: ServiceProcess;
const request = JSON.stringify({ repoUrl: 'https://example.com/r.git' });

beforeAll(async () => {
  server = await startTestRedis();
  dir = await mkdtemp(join(tmpdir(), 'e2e-redis-outage-'));
  const env = {
    PATH: process.env.PATH ?? '',
    REDIS_URL: server.url,
    ALLOWED_REPO_SCHEMES: 'https',
    LOG_LEVEL: 'info',
  };
  orchestrator = new ServiceProcess(
    'orchestrator',
    await freePort(),
    env,
    join(dir, 'orchestrator.log'),
  );
  orchestrator.start();
  await orchestrator.waitReady();
});
afterAll(async () => {
  await orchestrator?.close();
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the orchestrator while Redis is down', () => {
  it('when Redis stops, then the API answers 503 at once, and serves again when it is back', async () => {
    await server.stop();
    await eventually('readiness to fail', async () => (await orchestrator.readyStatus()) === 503);

    // postRun gives up after 10 s; before, ioredis held the command through
    // about twenty reconnect attempts, close to a minute.
    expect(await postRun(orchestrator.baseUrl, request)).toEqual({
      status: 503,
      body: { error: 'service unavailable, try again' },
    });
    const list = await fetch(`${orchestrator.baseUrl}/runs?limit=1`, {
      signal: AbortSignal.timeout(10_000),
    });
    expect(list.status).toBe(503);
    await list.body?.cancel();

    await server.start();
    await eventually('readiness to return', async () => (await orchestrator.readyStatus()) === 200);
    expect((await postRun(orchestrator.baseUrl, request)).status).toBe(202);
  });
});
