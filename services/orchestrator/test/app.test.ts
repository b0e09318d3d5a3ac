import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { RunRequested } from '@reporunner/contracts';
import { createLogger } from '@reporunner/service-kit';
import { startTestRedis, type TestRedis } from '@reporunner/testing';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { RunStore } from '../src/run-store.js';

let server: TestRedis;
let redis: Redis;
let http: Server;
let base: string;
const published: RunRequested[] = [];
const logs: Record<string, unknown>[] = [];
const runId = '0b6f1c8e-8a55-4b6e-9d8c-2f0e3c4d5a6b';

beforeAll(async () => {
  server = await startTestRedis();
  redis = server.client();
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line !== '') logs.push(JSON.parse(line));
      done();
    },
  });
  const app = createApp({
    store: new RunStore(redis),
    publish: async (event) => {
      if (event.repoUrl.endsWith('/redis-down.git')) throw new Error('Connection is closed.');
      published.push(event);
      return `${published.length}-0`;
    },
    allowedSchemes: ['https'],
    logger: createLogger('orchestrator', { destination: sink }),
    bodyLimit: '1kb',
    newRunId: () => runId,
  });
  http = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => http.once('listening', resolve));
  base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});
afterAll(async () => {
  if (http) await new Promise((resolve) => http.close(resolve));
  redis?.disconnect();
  await server?.close();
});
beforeEach(() => {
  published.length = 0;
});

function post(body: string): Promise<Response> {
  return fetch(`${base}/runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
}

describe('POST /runs', () => {
  it('when the request is valid, then it answers 202 and publishes RunRequested', async () => {
    const response = await post('{"repoUrl": "https://example.com/r.git", "ref": "main"}');
    expect(response.status).toBe(202);
    expect(response.headers.get('location')).toBe(`/runs/${runId}`);
    expect(await response.json()).toEqual({ runId, status: 'requested' });
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({
      runId,
      repoUrl: 'https://example.com/r.git',
      ref: 'main',
      requestedBy: { kind: 'api', id: '' },
    });
    expect(logs.find((line) => line.msg === 'run requested')).toMatchObject({
      runId,
      entryId: '1-0',
    });

    const run = await fetch(`${base}/runs/${runId}`);
    expect(run.status).toBe(200);
    expect(await run.json()).toMatchObject({
      runId,
      repoUrl: 'https://example.com/r.git',
      ref: 'main',
      status: 'requested',
      timeline: [{ event: 'RunRequested' }],
    });
  });

  it('when the ref is left out, then the default branch is meant (empty ref)', async () => {
    const response = await post('{"repoUrl": "https://example.com/r.git"}');
    expect(response.status).toBe(202);
    expect(published[0]?.ref).toBe('');
  });

  it.each([
    ['{"repoUrl": "not a url"}', 'repoUrl', 'repoUrl is not a URL'],
    [
      '{"repoUrl": "file:///srv/repo"}',
      'repoUrl',
      'repoUrl scheme "file" is not allowed (allowed: https)',
    ],
    ['{"repoUrl": "/srv/repo"}', 'repoUrl', 'repoUrl local paths are not allowed here'],
    ['{"ref": "main"}', 'repoUrl', 'repoUrl must be a string'],
    [
      '{"repoUrl": "https://example.com/r.git", "ref": "--upload-pack=x"}',
      'ref',
      'ref is not a valid git ref name: must not start with "-"',
    ],
    [
      '{"repoUrl": "https://example.com/r.git", "ref": "a..b"}',
      'ref',
      'ref is not a valid git ref name: must not contain ".."',
    ],
    ['{"repoUrl": "https://example.com/r.git", "ref": 5}', 'ref', 'ref must be a string'],
    ['[1, 2]', 'body', 'body must be a JSON object'],
    ['{"repoUrl": ', 'body', 'body is not valid JSON'],
    [
      JSON.stringify({ repoUrl: `https://example.com/${'x'.repeat(2000)}` }),
      'body',
      'body is larger than the limit',
    ],
  ])(
    'when the body is %s, then it answers 400 naming %s and publishes nothing',
    async (body, field, error) => {
      const response = await post(body);
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ error, field });
      expect(published).toEqual([]);
    },
  );
});

describe('POST /runs with a body it cannot decode', () => {
  it.each([
    [
      { 'content-type': 'application/json; charset=latin1' },
      'body charset is not supported; send UTF-8',
    ],
    [
      { 'content-type': 'application/json', 'content-encoding': 'zz' },
      'body content encoding is not supported',
    ],
    [{ 'content-type': 'application/json', 'content-encoding': 'gzip' }, 'body cannot be read'],
  ])(
    'when the headers are %o, then it answers 400 naming body and logs no error',
    async (headers, error) => {
      const failuresBefore = logs.filter((line) => line.msg === 'request failed').length;
      const response = await fetch(`${base}/runs`, {
        method: 'POST',
        headers,
        body: '{"repoUrl": "https://example.com/r.git"}',
      });
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ error, field: 'body' });
      expect(published).toEqual([]);
      expect(logs.filter((line) => line.msg === 'request failed')).toHaveLength(failuresBefore);
    },
  );
});

describe('POST /runs when Redis is down', () => {
  it('when publishing fails, then it answers 503 and logs the error', async () => {
    const response = await post('{"repoUrl": "https://example.com/redis-down.git"}');
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ error: 'service unavailable, try again' });
    expect(logs.find((line) => line.msg === 'request failed')).toMatchObject({
      level: 50,
      err: { message: 'Connection is closed.' },
    });
  });
});

describe('GET /runs', () => {
  it('when the run is unknown, then it answers 404', async () => {
    const response = await fetch(`${base}/runs/6a1d6b8e-0000-4000-8000-000000000000`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      error: 'run 6a1d6b8e-0000-4000-8000-000000000000 not found',
      field: 'runId',
    });
    expect((await fetch(`${base}/runs/not:a:run:id`)).status).toBe(404);
  });

  it('when runs are listed, then it answers with the newest first', async () => {
    const response = await fetch(`${base}/runs?limit=5`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { runs: { runId: string }[] };
    expect(body.runs.map((run) => run.runId)).toEqual([runId]);
  });

  it('when the limit is not a number from 1 to 100, then it answers 400 naming limit', async () => {
    for (const limit of ['0', '101', 'ten']) {
      const response = await fetch(`${base}/runs?limit=${limit}`);
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({
        error: 'limit must be an integer from 1 to 100',
        field: 'limit',
      });
    }
  });
});
