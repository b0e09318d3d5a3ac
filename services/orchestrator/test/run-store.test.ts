import { create, type Message } from '@bufbuild/protobuf';
import {
  BuildFailedSchema,
  BuildStage,
  BuildStartedSchema,
  BuildSucceededSchema,
  durationFromMs,
  IndexingCompletedSchema,
  RunFailedSchema,
  RunRequestedSchema,
  RunStartedSchema,
  RunSucceededSchema,
  timestampFromMs,
} from '@reporunner/contracts';
import { startTestRedis, type TestRedis } from '@reporunner/testing';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toLifecycleRecord } from '../src/lifecycle-event.js';
import { RunStore } from '../src/run-store.js';

let server: TestRedis;
let redis: Redis;
let store: RunStore;
const t0 = Date.parse('2026-01-01T00:00:00.000Z');
const at = (seconds: number) => timestampFromMs(t0 + seconds * 1000);

beforeAll(async () => {
  server = await startTestRedis();
  redis = server.client();
  store = new RunStore(redis);
});
afterAll(async () => {
  redis?.disconnect();
  await server?.close();
});

async function apply(...messages: Message[]): Promise<boolean[]> {
  const written: boolean[] = [];
  for (const message of messages) {
    const record = toLifecycleRecord(message);
    if (!record) throw new Error(`not a lifecycle event: ${message.$typeName}`);
    written.push(await store.record(record));
  }
  return written;
}

function lifecycle(runId: string) {
  return {
    requested: create(RunRequestedSchema, {
      runId,
      repoUrl: 'https://example.com/r.git',
      ref: 'main',
      requestedAt: at(0),
      requestedBy: { kind: 'api' },
    }),
    buildStarted: create(BuildStartedSchema, { runId, startedAt: at(1), worker: 'b1' }),
    built: create(BuildSucceededSchema, {
      runId,
      commitSha: 'abc',
      workspace: runId,
      duration: durationFromMs(1500),
      logTail: 'built\n',
      finishedAt: at(2),
      convention: 'npm',
    }),
    runStarted: create(RunStartedSchema, {
      runId,
      startedAt: at(3),
      command: ['npm', 'test'],
      worker: 'r1',
    }),
    ran: create(RunSucceededSchema, {
      runId,
      exitCode: 0,
      duration: durationFromMs(250),
      outputTail: 'ok\n',
      finishedAt: at(4),
    }),
  };
}

describe('RunStore', () => {
  it('when a run goes through its lifecycle, then the view has every section and the timeline in order', async () => {
    const e = lifecycle('run-a');
    await apply(e.requested, e.buildStarted, e.built, e.runStarted, e.ran);
    expect(await store.get('run-a')).toEqual({
      runId: 'run-a',
      repoUrl: 'https://example.com/r.git',
      ref: 'main',
      status: 'succeeded',
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:04.000Z',
      timeline: [
        { event: 'RunRequested', at: '2026-01-01T00:00:00.000Z' },
        { event: 'BuildStarted', at: '2026-01-01T00:00:01.000Z' },
        { event: 'BuildSucceeded', at: '2026-01-01T00:00:02.000Z' },
        { event: 'RunStarted', at: '2026-01-01T00:00:03.000Z' },
        { event: 'RunSucceeded', at: '2026-01-01T00:00:04.000Z' },
      ],
      build: {
        status: 'succeeded',
        startedAt: '2026-01-01T00:00:01.000Z',
        worker: 'b1',
        finishedAt: '2026-01-01T00:00:02.000Z',
        commitSha: 'abc',
        workspace: 'run-a',
        convention: 'npm',
        durationMs: 1500,
        logTail: 'built\n',
      },
      run: {
        status: 'succeeded',
        startedAt: '2026-01-01T00:00:03.000Z',
        command: ['npm', 'test'],
        worker: 'r1',
        finishedAt: '2026-01-01T00:00:04.000Z',
        exitCode: 0,
        durationMs: 250,
        outputTail: 'ok\n',
      },
    });
  });

  it('when events arrive out of order and twice, then the run never goes backwards', async () => {
    const e = lifecycle('run-b');
    expect(await apply(e.runStarted, e.requested, e.built)).toEqual([true, true, true]);
    expect((await store.get('run-b'))?.status).toBe('running');
    expect(await apply(e.ran, e.buildStarted, e.requested, e.runStarted)).toEqual([
      true,
      true,
      false,
      false,
    ]);
    const run = await store.get('run-b');
    expect(run?.status).toBe('succeeded');
    expect(run?.timeline.map((entry) => entry.event)).toEqual([
      'RunRequested',
      'BuildStarted',
      'BuildSucceeded',
      'RunStarted',
      'RunSucceeded',
    ]);
  });

  it('when a second builder claims the build, then the view names the worker that started last', async () => {
    const e = lifecycle('run-h');
    const reclaimed = create(BuildStartedSchema, {
      runId: 'run-h',
      startedAt: at(1.5),
      worker: 'b2',
    });
    expect(await apply(e.requested, e.buildStarted, reclaimed, e.built)).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect((await store.get('run-h'))?.build).toMatchObject({ worker: 'b2', status: 'succeeded' });

    const late = create(BuildStartedSchema, { runId: 'run-h', startedAt: at(9), worker: 'b3' });
    expect(await apply(e.buildStarted, reclaimed, late)).toEqual([false, false, false]);
    const run = await store.get('run-h');
    expect(run?.build).toMatchObject({ worker: 'b2', startedAt: '2026-01-01T00:00:01.500Z' });
    expect(run?.timeline.filter((entry) => entry.event === 'BuildStarted')).toHaveLength(1);
  });

  it('when a failure arrives after success (a redelivered rerun), then it is refused and the record is unchanged', async () => {
    const e = lifecycle('run-c');
    await apply(e.requested, e.buildStarted, e.built, e.runStarted, e.ran);
    const before = await store.get('run-c');
    expect(
      await apply(
        create(RunFailedSchema, { runId: 'run-c', reason: 'workspace is gone', finishedAt: at(9) }),
      ),
    ).toEqual([false]);
    expect(await store.get('run-c')).toEqual(before);
  });

  it('when a rebuild fails after the build succeeded, then the run goes on from the first build', async () => {
    const e = lifecycle('run-f');
    await apply(e.requested, e.buildStarted, e.built, e.runStarted);
    expect(
      await apply(
        create(BuildFailedSchema, {
          runId: 'run-f',
          stage: BuildStage.BUILD,
          reason: 'x',
          finishedAt: at(5),
        }),
      ),
    ).toEqual([false]);
    const run = await store.get('run-f');
    expect(run?.status).toBe('running');
    expect(run?.failure).toBeUndefined();
    expect(run?.build).toMatchObject({ status: 'succeeded' });
  });

  it('when the build failed, then a later run of another build is refused', async () => {
    const e = lifecycle('run-g');
    await apply(
      e.requested,
      e.buildStarted,
      create(BuildFailedSchema, {
        runId: 'run-g',
        stage: BuildStage.BUILD,
        reason: 'x',
        finishedAt: at(2),
      }),
    );
    expect(await apply(e.built, e.runStarted, e.ran)).toEqual([false, false, false]);
    const run = await store.get('run-g');
    expect(run?.status).toBe('failed');
    expect(run?.timeline.map((entry) => entry.event)).toEqual([
      'RunRequested',
      'BuildStarted',
      'BuildFailed',
    ]);
  });

  it('when the build fails, then the failure names the stage and reason', async () => {
    const e = lifecycle('run-d');
    await apply(
      e.requested,
      e.buildStarted,
      create(BuildFailedSchema, {
        runId: 'run-d',
        stage: BuildStage.CLONE,
        reason: "git fetch failed: couldn't find remote ref nope",
        exit: { outcome: { case: 'exitCode', value: 128 } },
        finishedAt: at(2),
        duration: durationFromMs(20),
      }),
    );
    const run = await store.get('run-d');
    expect(run?.status).toBe('failed');
    expect(run?.failure).toEqual({
      stage: 'clone',
      reason: "git fetch failed: couldn't find remote ref nope",
    });
    expect(run?.build).toMatchObject({ status: 'failed', exit: { exitCode: 128 } });
  });

  it('when the index arrives, then it has its own section and the status is unchanged', async () => {
    const e = lifecycle('run-e');
    await apply(
      e.requested,
      create(IndexingCompletedSchema, {
        runId: 'run-e',
        commitSha: 'abc',
        totalFiles: 2n,
        totalBytes: 30n,
        totalLines: 3n,
        languages: [{ language: 'JavaScript', files: 1n, bytes: 20n, lines: 2n }],
        largestFiles: [{ path: 'a.js', bytes: 20n, lines: 2n, language: 'JavaScript' }],
        binaryFiles: 0n,
        manifests: ['package.json'],
        finishedAt: at(5),
        duration: durationFromMs(10),
      }),
    );
    const run = await store.get('run-e');
    expect(run?.status).toBe('requested');
    expect(run?.index).toEqual({
      status: 'completed',
      finishedAt: '2026-01-01T00:00:05.000Z',
      commitSha: 'abc',
      totalFiles: 2,
      totalBytes: 30,
      totalLines: 3,
      binaryFiles: 0,
      languages: [{ language: 'JavaScript', files: 1, bytes: 20, lines: 2 }],
      largestFiles: [{ path: 'a.js', bytes: 20, lines: 2, language: 'JavaScript' }],
      manifests: ['package.json'],
      durationMs: 10,
    });
  });

  it('when runs are listed, then the newest come first and the limit holds', async () => {
    const local = new RunStore(redis);
    for (const [runId, seconds] of [
      ['list-1', 100],
      ['list-2', 300],
      ['list-3', 200],
    ] as const) {
      const record = toLifecycleRecord(
        create(RunRequestedSchema, { runId, repoUrl: 'u', requestedAt: at(seconds) }),
      );
      if (record) await local.record(record);
    }
    const listed = await local.list(2);
    expect(listed.map((run) => run.runId)).toEqual(['list-2', 'list-3']);
  });

  it('when a TTL is set, then every event renews the expiry and old listing entries are dropped', async () => {
    const local = new RunStore(redis, 3600);
    const stale = toLifecycleRecord(
      create(RunRequestedSchema, { runId: 'ttl-old', repoUrl: 'u', requestedAt: at(0) }),
    );
    const fresh = toLifecycleRecord(
      create(RunRequestedSchema, {
        runId: 'ttl-new',
        repoUrl: 'u',
        requestedAt: timestampFromMs(Date.now()),
      }),
    );
    if (!stale || !fresh) throw new Error('not lifecycle events');
    await local.record(stale);
    await local.record(fresh);
    expect(await redis.ttl('reporunner:run:ttl-new')).toBeGreaterThan(3590);
    expect(await redis.zscore('reporunner:runs', 'ttl-old')).toBeNull();
    expect(await redis.zscore('reporunner:runs', 'ttl-new')).not.toBeNull();
  });

  it('when a run is unknown, then get answers undefined', async () => {
    expect(await store.get('nobody')).toBeUndefined();
  });
});
