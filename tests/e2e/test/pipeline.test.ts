import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { create } from '@bufbuild/protobuf';
import {
  BuildStartedSchema,
  nowTimestamp,
  RunFailedSchema,
  timestampFromMs,
} from '@reporunner/contracts';
import {
  DEAD_LETTER_LIST,
  STREAM_INDEXING,
  STREAM_REPO_RUNS,
  StreamProducer,
} from '@reporunner/shared';
import { startTestRedis, type TestRedis } from '@reporunner/testing';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { eventually, getRun, postRun, type Run, requestRun, waitForDone } from '../src/api.js';
import {
  buildFailing,
  buildHanging,
  isRunning,
  lineCount,
  NODE_PASSING,
  readPids,
  repo,
  slowBuild,
  testsFailing,
} from '../src/fixtures.js';
import { type PipelineStack, startPipeline } from '../src/pipeline-stack.js';
import { eventTypesOf, groupBacklogs } from '../src/redis-inspect.js';
import { SERVICES } from '../src/service-process.js';

const COMMAND_TIMEOUT_MS = 8_000;

let server: TestRedis;
let redis: Redis;
let root: string;
let stack: PipelineStack;
let keepLogs = false;
const repos: Record<string, string> = {};
const pidFiles: Record<string, string> = {};

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'reporunner-e2e-'));
  server = await startTestRedis();
  redis = server.client();
  // The last test stops Redis; this client reconnects on its own.
  redis.on('error', () => {});
  for (const name of ['build-failing', 'tests-failing', 'build-hanging']) {
    pidFiles[name] = join(root, `${name}.pids`);
  }
  repos.passing = await repo(root, 'node-passing', NODE_PASSING);
  repos.buildFailing = await repo(
    root,
    'build-failing',
    buildFailing(pidFiles['build-failing'] ?? ''),
  );
  repos.testsFailing = await repo(
    root,
    'tests-failing',
    testsFailing(pidFiles['tests-failing'] ?? ''),
  );
  repos.buildHanging = await repo(
    root,
    'build-hanging',
    buildHanging(pidFiles['build-hanging'] ?? ''),
  );
  stack = await startPipeline({
    redisUrl: server.url,
    dir: root,
    env: {
      COMMAND_TIMEOUT_MS: String(COMMAND_TIMEOUT_MS),
      CONCURRENCY: '4',
      SHUTDOWN_TIMEOUT_MS: '5000',
    },
  });
});

afterAll(async () => {
  await stack?.stop();
  redis?.disconnect();
  await server?.close();
  if (keepLogs) {
    console.log(`e2e: a test failed; service logs kept in ${stack?.logDir ?? root}`);
  } else if (root) {
    await rm(root, { recursive: true, force: true });
  }
});

function keepLogsOnFailure(): void {
  onTestFailed(() => {
    keepLogs = true;
  });
}

function base(): string {
  return stack.orchestrator.baseUrl;
}

async function processTreeGone(pidFile: string): Promise<number[]> {
  const pids = readPids(pidFile);
  await eventually('the process tree to be gone', async () => !pids.some(isRunning), 10_000);
  return pids.filter(isRunning);
}

describe('bad requests', () => {
  it('when requests are invalid, then each answers 400 naming the field and nothing is published', async () => {
    keepLogsOnFailure();
    const before = [await redis.xlen(STREAM_REPO_RUNS), await redis.xlen(STREAM_INDEXING)];
    const cases: [string, string][] = [
      [JSON.stringify({ repoUrl: 'not a url' }), 'repoUrl'],
      [JSON.stringify({ repoUrl: 'ftp://example.com/r.git' }), 'repoUrl'],
      [JSON.stringify({ repoUrl: 'ssh://example.com/r.git' }), 'repoUrl'],
      [JSON.stringify({ repoUrl: 'https://user:pw@example.com/r.git' }), 'repoUrl'],
      [JSON.stringify({ repoUrl: repos.passing, ref: '--upload-pack=touch /tmp/x' }), 'ref'],
      [JSON.stringify({ repoUrl: repos.passing, ref: 'a..b' }), 'ref'],
      [JSON.stringify({ repoUrl: repos.passing, ref: 'has space' }), 'ref'],
      [JSON.stringify({ repoUrl: repos.passing, ref: 'x.lock' }), 'ref'],
      [JSON.stringify({ repoUrl: `https://example.com/${'a'.repeat(5000)}` }), 'body'],
      ['{"repoUrl":', 'body'],
      ['"just a string"', 'body'],
    ];
    const answers = [];
    for (const [body] of cases) {
      const answer = await postRun(base(), body);
      answers.push([answer.status, answer.body.field]);
    }
    expect(answers).toEqual(cases.map(([, field]) => [400, field]));
    expect([await redis.xlen(STREAM_REPO_RUNS), await redis.xlen(STREAM_INDEXING)]).toEqual(before);
  });
});

describe('runs of real repositories', () => {
  const runs: Record<string, Run> = {};
  const ids: Record<string, string> = {};
  let missingRepo: string;

  beforeAll(async () => {
    missingRepo = join(root, 'repos', 'does-not-exist');
    ids.passing = await requestRun(base(), repos.passing ?? '');
    ids.buildFailing = await requestRun(base(), repos.buildFailing ?? '');
    ids.testsFailing = await requestRun(base(), repos.testsFailing ?? '');
    ids.buildHanging = await requestRun(base(), repos.buildHanging ?? '');
    ids.missingRef = await requestRun(base(), repos.passing ?? '', 'does-not-exist');
    ids.missingUrl = await requestRun(base(), `file://${missingRepo}`, 'main');
    await Promise.all(
      Object.entries(ids).map(async ([name, runId]) => {
        runs[name] = await waitForDone(base(), runId);
      }),
    );
  });

  it('when a Node repository builds and its tests pass, then the run succeeds with every event in order', async () => {
    keepLogsOnFailure();
    const runId = ids.passing ?? '';
    const run = runs.passing;
    expect(run?.status).toBe('succeeded');
    expect(run?.failure).toBeUndefined();
    expect(run?.build).toMatchObject({ status: 'succeeded', convention: 'npm', workspace: runId });
    expect(run?.run).toMatchObject({ status: 'succeeded', command: ['npm', 'test'], exitCode: 0 });
    expect(String(run?.run?.outputTail)).toContain('tests passed, environment clean');
    expect(
      run?.timeline.map((entry) => entry.event).filter((e) => !e.startsWith('Indexing')),
    ).toEqual(['RunRequested', 'BuildStarted', 'BuildSucceeded', 'RunStarted', 'RunSucceeded']);
    expect(await eventTypesOf(redis, STREAM_REPO_RUNS, runId)).toEqual([
      'RunRequested',
      'BuildStarted',
      'BuildSucceeded',
      'RunStarted',
      'RunSucceeded',
    ]);
    expect(await eventTypesOf(redis, STREAM_INDEXING, runId)).toEqual(['IndexingCompleted']);
  });

  it('when the passing repository is indexed, then the file and line counts are exact', () => {
    keepLogsOnFailure();
    const files = Object.entries(NODE_PASSING);
    const linesOf = (names: string[]) =>
      names.reduce((sum, name) => sum + lineCount(NODE_PASSING[name] ?? ''), 0);
    const index = runs.passing?.index;
    expect(index).toMatchObject({
      status: 'completed',
      commitSha: runs.passing?.build?.commitSha,
      totalFiles: 5,
      totalLines: linesOf(files.map(([name]) => name)),
      totalBytes: files.reduce((sum, [, text]) => sum + Buffer.byteLength(text), 0),
      binaryFiles: 0,
      manifests: ['package.json', 'package-lock.json', 'README.md'],
    });
    const languages = (
      (index?.languages ?? []) as { language: string; files: number; lines: number }[]
    )
      .map(({ language, files: count, lines }) => [language, count, lines])
      .sort();
    expect(languages).toEqual(
      [
        ['JSON', 2, linesOf(['package.json', 'package-lock.json'])],
        ['JavaScript', 2, linesOf(['build.js', 'test.js'])],
        ['Markdown', 1, linesOf(['README.md'])],
      ].sort(),
    );
  });

  it("when the build fails, then the run fails in stage build and the build's process tree is gone", async () => {
    keepLogsOnFailure();
    const run = runs.buildFailing;
    expect(run?.status).toBe('failed');
    expect(run?.failure).toEqual({ stage: 'build', reason: 'build failed: exit code 2' });
    expect(run?.build).toMatchObject({ status: 'failed', exit: { exitCode: 2 } });
    expect(String(run?.build?.logTail)).toContain('compile error');
    expect(run?.run).toBeUndefined();
    expect(await eventTypesOf(redis, STREAM_REPO_RUNS, ids.buildFailing ?? '')).toEqual([
      'RunRequested',
      'BuildStarted',
      'BuildFailed',
    ]);
    expect(await processTreeGone(pidFiles['build-failing'] ?? '')).toEqual([]);
  });

  it("when the tests fail, then the run fails in stage run and the tests' process tree is gone", async () => {
    keepLogsOnFailure();
    const run = runs.testsFailing;
    expect(run?.status).toBe('failed');
    expect(run?.failure).toEqual({ stage: 'run', reason: 'tests failed: exit code 1' });
    expect(run?.run).toMatchObject({
      status: 'failed',
      command: ['node', 'test.js'],
      exit: { exitCode: 1 },
      outputTail: '1 failing\n',
    });
    expect(await eventTypesOf(redis, STREAM_REPO_RUNS, ids.testsFailing ?? '')).toEqual([
      'RunRequested',
      'BuildStarted',
      'BuildSucceeded',
      'RunStarted',
      'RunFailed',
    ]);
    expect(await processTreeGone(pidFiles['tests-failing'] ?? '')).toEqual([]);
  });

  it('when the build hangs past the timeout, then the run fails in stage build and the process tree is gone', async () => {
    keepLogsOnFailure();
    const run = runs.buildHanging;
    expect(run?.status).toBe('failed');
    expect(run?.failure).toEqual({
      stage: 'build',
      reason: `build timed out after ${COMMAND_TIMEOUT_MS / 1000}s`,
    });
    expect(run?.build).toMatchObject({ status: 'failed', exit: { timedOut: true } });
    expect(await processTreeGone(pidFiles['build-hanging'] ?? '')).toEqual([]);
  });

  it("when the ref does not exist, then the run fails in stage clone with git's reason", () => {
    keepLogsOnFailure();
    const reason = "git fetch failed: couldn't find remote ref does-not-exist";
    expect(runs.missingRef?.status).toBe('failed');
    expect(runs.missingRef?.failure).toEqual({ stage: 'clone', reason });
    expect(runs.missingRef?.index).toMatchObject({ status: 'failed', reason });
  });

  it("when the repository does not exist, then the run fails in stage clone with git's reason", () => {
    keepLogsOnFailure();
    const reason = `git fetch failed: '${missingRepo}' does not appear to be a git repository`;
    expect(runs.missingUrl?.status).toBe('failed');
    expect(runs.missingUrl?.failure).toEqual({ stage: 'clone', reason });
    expect(runs.missingUrl?.index).toMatchObject({ status: 'failed', reason });
  });

  it('when runs failed on bad refs and URLs, then nothing was dead-lettered and every service is ready', async () => {
    keepLogsOnFailure();
    expect(await redis.llen(DEAD_LETTER_LIST)).toBe(0);
    const statuses = await Promise.all(SERVICES.map((name) => stack.services[name].readyStatus()));
    expect(statuses).toEqual([200, 200, 200, 200]);
  });

  it('when runs are listed, then the newest come first', async () => {
    keepLogsOnFailure();
    const response = await fetch(`${base()}/runs?limit=6`);
    const listed = ((await response.json()) as { runs: (Run & { createdAt: string })[] }).runs;
    expect(new Set(listed.map((run) => run.runId))).toEqual(new Set(Object.values(ids)));
    const created = listed.map((run) => run.createdAt);
    expect(created).toEqual([...created].sort().reverse());
  });

  it('when every log line about a run is read, then each carries its runId', () => {
    keepLogsOnFailure();
    const runIds = new Set(Object.values(ids));
    // The messages the services log about one run, and any line a handler's
    // logger wrote (those carry the stream entry id).
    const runMessages = new Set([
      'run requested',
      'lifecycle event recorded',
      'build started',
      'repository fetched',
      'build step started',
      'build succeeded',
      'build failed',
      'run started',
      'run succeeded',
      'run failed',
      'indexing completed',
      'indexing failed',
    ]);
    const aboutRuns = SERVICES.flatMap((name) => stack.services[name].lines).filter(
      (line) => runMessages.has(String(line.msg)) || line.entryId !== undefined,
    );
    expect(aboutRuns.length).toBeGreaterThan(20);
    expect(aboutRuns.filter((line) => !runIds.has(String(line.runId)))).toEqual([]);
  });

  it('when the orchestrator restarts, then it exits cleanly on SIGTERM and still knows the runs', async () => {
    keepLogsOnFailure();
    const before = await getRun(base(), ids.passing ?? '');
    expect(await stack.orchestrator.stop()).toBe(0);
    stack.orchestrator.start();
    await stack.orchestrator.waitReady();
    expect(await getRun(base(), ids.passing ?? '')).toEqual(before);
  });

  it('when the CLI follows a run, then it prints each step and exits 0 on success and 1 on failure', async () => {
    keepLogsOnFailure();
    const cli = fileURLToPath(
      new URL('../../../services/orchestrator/dist/cli.js', import.meta.url),
    );
    const runCli = (...args: string[]) =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawn(process.execPath, [cli, 'run', ...args, '--url', base()], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
        });
        child.stderr.on('data', (chunk: Buffer) => {
          out += chunk.toString();
        });
        child.once('exit', (code) => resolve({ code, out }));
      });

    const passed = await runCli(repos.passing ?? '');
    expect(passed.code).toBe(0);
    const steps = passed.out
      .split('\n')
      .map((line) => /^\d\d:\d\d:\d\d\.\d{3} {2}(\S+(?: \S+)?)/.exec(line)?.[1])
      .filter((step) => step !== undefined && !step.startsWith('indexed'));
    expect(steps).toEqual(['requested', 'build started', 'build ok', 'run started', 'run ok']);
    expect(passed.out).toMatch(/run [0-9a-f-]{36} succeeded\n$/);

    const failed = await runCli(repos.testsFailing ?? '');
    expect(failed.code).toBe(1);
    expect(failed.out).toContain('failed in stage run: tests failed: exit code 1');
  });

  it('when late and duplicate events arrive for a finished run, then its record does not change', async () => {
    keepLogsOnFailure();
    const runId = ids.passing ?? '';
    const before = await getRun(base(), runId);
    const producer = new StreamProducer({ redis, stream: STREAM_REPO_RUNS, producerName: 'e2e' });
    await producer.publishMany([
      create(BuildStartedSchema, { runId, startedAt: timestampFromMs(Date.now()), worker: 'x' }),
      create(RunFailedSchema, { runId, reason: 'late failure', finishedAt: nowTimestamp() }),
    ]);
    await eventually('the orchestrator to read the extra events', async () => {
      const groups = await groupBacklogs(redis, STREAM_REPO_RUNS);
      return isDeepStrictEqual(groups['group:orchestrator'], { pending: 0, lag: 0 });
    });
    const after = await getRun(base(), runId);
    expect(after).toEqual(before);
  });

  it('when the builder gets SIGTERM mid-build, then it finishes the build, exits 0, and the run succeeds', async () => {
    keepLogsOnFailure();
    const slow = await repo(root, 'slow-build', slowBuild(2_000));
    const runId = await requestRun(base(), slow);
    await eventually('the slow build to start', async () => {
      return (await getRun(base(), runId)).status === 'building';
    });
    expect(await stack.services.builder.stop()).toBe(0);
    // BuildSucceeded was published before the exit; the orchestrator records it soon after.
    await eventually('the build outcome to be recorded', async () => {
      return (await getRun(base(), runId)).build?.status !== 'started';
    });
    const built = await getRun(base(), runId);
    expect(built.build).toMatchObject({ status: 'succeeded' });
    expect(String(built.build?.logTail)).toContain('slow build done');
    stack.services.builder.start();
    await stack.services.builder.waitReady();
    expect((await waitForDone(base(), runId)).status).toBe('succeeded');
    expect(await eventTypesOf(redis, STREAM_REPO_RUNS, runId)).toEqual([
      'RunRequested',
      'BuildStarted',
      'BuildSucceeded',
      'RunStarted',
      'RunSucceeded',
    ]);
  });

  it('when every run is done, then dead letters, pending lists and lag are all zero', async () => {
    keepLogsOnFailure();
    const backlogs = async () => ({
      runs: await groupBacklogs(redis, STREAM_REPO_RUNS),
      indexing: await groupBacklogs(redis, STREAM_INDEXING),
    });
    const idle = { pending: 0, lag: 0 };
    const expected = {
      runs: {
        'group:builder': idle,
        'group:indexer': idle,
        'group:orchestrator': idle,
        'group:runner': idle,
      },
      indexing: { 'group:orchestrator': idle },
    };
    await eventually('every group to drain', async () => {
      return isDeepStrictEqual(await backlogs(), expected);
    });
    expect(await backlogs()).toEqual(expected);
    expect(await redis.llen(DEAD_LETTER_LIST)).toBe(0);
  });

  it('when Redis goes away, then every service stays live but not ready, and is ready again when it is back', async () => {
    keepLogsOnFailure();
    const statuses = (path: string) =>
      Promise.all(SERVICES.map((name) => stack.services[name].readyStatus(path)));
    await server.stop();
    try {
      expect(await statuses('/health/ready')).toEqual([503, 503, 503, 503]);
      expect(await statuses('/health/live')).toEqual([200, 200, 200, 200]);
    } finally {
      await server.start();
    }
    await eventually('every service to be ready again', async () => {
      return isDeepStrictEqual(await statuses('/health/ready'), [200, 200, 200, 200]);
    });
  });
});
