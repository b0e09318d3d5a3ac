import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { inspectContainers } from '../src/container-state.js';
import { FAILING_MAKE, LONG_BUILD, PASSING_NODE, SLOW_BUILD } from '../src/fixture-repos.js';
import { isFinal, type RunView } from '../src/orchestrator-client.js';
import { pollUntil } from '../src/poll.js';
import { APP_SERVICES, STOP_TIMEOUT_S, TestStack } from '../src/test-stack.js';

// The whole pipeline in containers: images built from the Dockerfile, the stack
// from docker-compose.yml plus an override with the fixture repositories. The
// steps build on each other (one stack, started once), so they run in order.

const RUN_LIFECYCLE_SUCCEEDED = [
  'RunRequested',
  'BuildStarted',
  'BuildSucceeded',
  'RunStarted',
  'RunSucceeded',
];
const RUN_LIFECYCLE_TESTS_FAILED = [
  'RunRequested',
  'BuildStarted',
  'BuildSucceeded',
  'RunStarted',
  'RunFailed',
];

/** What may sit in /app of an image besides dist, node_modules and package.json. */
const PACKED_ENTRIES = ['dist', 'node_modules', 'package.json', 'README.md', 'LICENSE'];

/** Bounds for a run to reach its final status. */
const RUN_BOUNDS = { attempts: 300, intervalMs: 1_000, timeoutMs: 5 * 60_000 };

let stack: TestStack | undefined;
let failed = false;

function theStack(): TestStack {
  if (stack === undefined) throw new Error('the stack was not created (see the first error)');
  return stack;
}

async function finalRun(runId: string): Promise<RunView> {
  let last: RunView | undefined;
  return pollUntil(
    `run ${runId} to finish`,
    RUN_BOUNDS,
    async () => {
      last = await theStack().api.getRun(runId);
      return isFinal(last) ? last : undefined;
    },
    () => JSON.stringify(last),
  );
}

/** Waits until `stream` holds `count` events of the run, then returns their types. */
async function lifecycleOf(stream: string, runId: string, count: number): Promise<string[]> {
  let seen: string[] = [];
  return pollUntil(
    `${count} events of run ${runId} in ${stream}`,
    { attempts: 60, intervalMs: 1_000, timeoutMs: 60_000 },
    async () => {
      seen = await theStack().redis.lifecycle(stream, runId);
      return seen.length >= count ? seen : undefined;
    },
    () => seen.join(', '),
  );
}

/** Waits until the run's record has its index section (it may come after the status). */
async function indexedRun(runId: string): Promise<RunView> {
  let last: RunView | undefined;
  return pollUntil(
    `run ${runId} to have its index section`,
    { attempts: 60, intervalMs: 1_000, timeoutMs: 60_000 },
    async () => {
      last = await theStack().api.getRun(runId);
      return last?.index === undefined ? undefined : last;
    },
    () => JSON.stringify(last),
  );
}

function countBy(values: readonly unknown[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[String(value)] = (counts[String(value)] ?? 0) + 1;
  return counts;
}

describe('docker compose: the pipeline in containers', () => {
  beforeAll(async () => {
    try {
      stack = await TestStack.create([PASSING_NODE, FAILING_MAKE, SLOW_BUILD, LONG_BUILD]);
      console.info(`compose test: project ${stack.project.name}, building the images`);
      await stack.build();
      console.info('compose test: starting the stack');
      await stack.up(1);
    } catch (error) {
      failed = true;
      throw error;
    }
  });

  beforeEach(({ onTestFailed }) => {
    onTestFailed(() => {
      failed = true;
    });
  });

  afterAll(async () => {
    if (stack === undefined) return;
    if (failed) console.error(`compose test: service logs\n${await stack.logs()}`);
    await stack.destroy();
  });

  it('when the stack is up, then every service is healthy, runs as node and only the API is published', async () => {
    const states = await inspectContainers(await theStack().project.containerIds());

    expect(states.map((s) => s.service).sort()).toEqual([...APP_SERVICES, 'redis'].sort());
    for (const state of states) expect(state.health, state.service).toBe('healthy');
    for (const state of states.filter((s) => s.service !== 'redis')) {
      expect(state.user, state.service).toBe('node');
    }
    for (const state of states.filter((s) => s.service !== 'orchestrator')) {
      expect(state.published, state.service).toEqual([]);
    }
    const orchestrator = states.find((s) => s.service === 'orchestrator');
    expect(orchestrator?.published).toEqual([
      expect.stringMatching(/^127\.0\.0\.1:\d+->8080\/tcp$/),
    ]);
    expect(await theStack().api.isReady()).toBe(true);
  });

  it('when the images are inspected, then each holds only its service and the tools its work needs', async () => {
    const s = theStack();
    const inContainer = async (service: string, script: string) =>
      (await s.project.run(['exec', '-T', service, 'sh', '-c', script], 60_000)).stdout.trim();

    for (const service of APP_SERVICES) {
      // What pnpm deploy copies: the manifest, its "files" (dist) and the files
      // npm always packs (README), plus production dependencies. No sources or tests.
      const entries = (await inContainer(service, 'ls -A /app')).split('\n');
      expect(entries, service).toEqual(
        expect.arrayContaining(['dist', 'node_modules', 'package.json']),
      );
      expect(
        entries.filter((e) => !PACKED_ENTRIES.includes(e)),
        service,
      ).toEqual([]);
      expect(await inContainer(service, 'echo "$NODE_ENV"'), service).toBe('production');
    }
    for (const service of ['builder', 'runner']) {
      expect(await inContainer(service, 'git --version'), service).toMatch(/^git version /);
      expect(await inContainer(service, 'make --version | head -n 1'), service).toMatch(
        /^GNU Make/,
      );
      expect(await inContainer(service, 'pnpm --version && yarn --version'), service).toMatch(
        /^\d+\.\d+\.\d+\n\d+\.\d+\.\d+$/,
      );
    }
    expect(await inContainer('indexer', 'git --version')).toMatch(/^git version /);
    expect(await inContainer('orchestrator', 'command -v git || echo none')).toBe('none');
  });

  it('when a Node repository whose tests pass is requested, then the run succeeds with every lifecycle event in order', async () => {
    const s = theStack();
    const runId = await s.api.requestRun(s.repoUrl(PASSING_NODE), 'main');

    const run = await finalRun(runId);

    expect(run.status, JSON.stringify(run)).toBe('succeeded');
    expect(run.repoUrl).toBe(s.repoUrl(PASSING_NODE));
    expect(await lifecycleOf('stream:repo-runs', runId, 5)).toEqual(RUN_LIFECYCLE_SUCCEEDED);
    expect(await lifecycleOf('stream:indexing', runId, 1)).toEqual(['IndexingCompleted']);
    // Builder and indexer fetched the repository each on its own: same commit.
    const indexed = await indexedRun(runId);
    expect(indexed.build).toMatchObject({ convention: 'npm' });
    expect(indexed.index).toMatchObject({ status: 'completed', totalFiles: 4 });
    expect(indexed.index?.commitSha).toMatch(/^[0-9a-f]{40}$/);
    expect(indexed.index?.commitSha).toBe(indexed.build?.commitSha);
  });

  it('when a repository whose tests fail is requested, then the run fails in the run stage', async () => {
    const s = theStack();
    const runId = await s.api.requestRun(s.repoUrl(FAILING_MAKE));

    const run = await finalRun(runId);

    expect(run.status, JSON.stringify(run)).toBe('failed');
    expect(run.failure?.stage, JSON.stringify(run.failure)).toMatch(/^run$/i);
    expect(await lifecycleOf('stream:repo-runs', runId, 5)).toEqual(RUN_LIFECYCLE_TESTS_FAILED);
    expect(await lifecycleOf('stream:indexing', runId, 1)).toEqual(['IndexingCompleted']);
    const indexed = await indexedRun(runId);
    expect(indexed.build).toMatchObject({ convention: 'make' });
    expect(indexed.index).toMatchObject({ status: 'completed', totalFiles: 2 });
  });

  it('when builders are scaled to 2, then both join group:builder and several runs at once all finish', async () => {
    const s = theStack();
    await s.project.run(
      ['up', '--detach', '--no-build', '--no-recreate', '--scale', 'builder=2'],
      5 * 60_000,
    );
    await s.waitHealthy(6);

    const fixtures = [PASSING_NODE, FAILING_MAKE, PASSING_NODE, SLOW_BUILD, PASSING_NODE];
    const runIds = await Promise.all(fixtures.map((f) => s.api.requestRun(s.repoUrl(f))));
    const runs = await Promise.all(runIds.map((id) => finalRun(id)));

    expect(runs.map((run) => run.status)).toEqual([
      'succeeded',
      'failed',
      'succeeded',
      'succeeded',
      'succeeded',
    ]);
    const builders = await pollUntil(
      'two consumers in group:builder',
      { attempts: 60, intervalMs: 1_000, timeoutMs: 60_000 },
      async () => {
        const consumers = await s.redis.consumers('stream:repo-runs', 'group:builder');
        return consumers.length >= 2 ? consumers : undefined;
      },
    );
    expect(builders).toHaveLength(2);
    // Which builder took which run is up to Redis and timing, so it is shown, not asserted.
    const workers = await Promise.all(
      runIds.map(async (id) => (await s.api.getRun(id))?.build?.worker),
    );
    console.info(`compose test: builds per worker ${JSON.stringify(countBy(workers))}`);
  });

  it('when the stack is stopped and taken down during a build and started again, then every service stopped gracefully and the run still finishes', async () => {
    const s = theStack();
    const runId = await s.api.requestRun(s.repoUrl(SLOW_BUILD));
    await pollUntil(
      `run ${runId} to start building`,
      { attempts: 120, intervalMs: 250, timeoutMs: 60_000 },
      async () => ((await s.api.getRun(runId))?.status === 'building' ? true : undefined),
    );

    await s.project.run(['stop', '--timeout', `${STOP_TIMEOUT_S}`], 5 * 60_000);
    const stopped = await inspectContainers(await s.project.containerIds());
    expect(stopped.map((state) => state.service).sort()).toEqual(
      ['builder', 'builder', 'indexer', 'orchestrator', 'redis', 'runner'].sort(),
    );
    for (const state of stopped) {
      expect(state.status, state.service).toBe('exited');
      expect(state.oomKilled, state.service).toBe(false);
      // 137 is SIGKILL: Docker's answer to a container that ignored SIGTERM
      // for the whole stop timeout. 0 and 143 are clean exits on SIGTERM.
      expect([0, 143], `${state.service} exit code`).toContain(state.exitCode);
    }

    // `down` keeps the named volumes: the Redis data (append-only file) and the
    // workspaces survive the containers, and the new ones carry on from them.
    await s.project.run(['down', '--timeout', `${STOP_TIMEOUT_S}`], 5 * 60_000);
    await s.up(2);
    const run = await finalRun(runId);

    expect(run.status, JSON.stringify(run)).toBe('succeeded');
  });

  it('when the builders are SIGKILLed during a build and started again, then the run is claimed and built exactly once more', async () => {
    const s = theStack();
    const runId = await s.api.requestRun(s.repoUrl(LONG_BUILD));
    await pollUntil(
      `run ${runId} to start building`,
      { attempts: 120, intervalMs: 250, timeoutMs: 60_000 },
      async () => ((await s.api.getRun(runId))?.status === 'building' ? true : undefined),
    );

    // No drain and no chance to hand the entry back: it stays pending under a
    // consumer that is gone, and a new builder claims it once idle (60 s).
    await s.project.run(['kill', '-s', 'SIGKILL', 'builder'], 60_000);
    await s.up(2);
    const run = await finalRun(runId);

    expect(run.status, JSON.stringify(run)).toBe('succeeded');
    expect(await lifecycleOf('stream:repo-runs', runId, 6)).toEqual([
      'RunRequested',
      'BuildStarted',
      'BuildStarted',
      'BuildSucceeded',
      'RunStarted',
      'RunSucceeded',
    ]);
  });

  it('when every run has finished, then nothing is pending, lagging or dead-lettered', async () => {
    const s = theStack();
    let last = '';
    await pollUntil(
      'every group of both streams to have nothing pending and no lag',
      { attempts: 60, intervalMs: 1_000, timeoutMs: 60_000 },
      async () => {
        const groups = [
          ...(await s.redis.groups('stream:repo-runs')),
          ...(await s.redis.groups('stream:indexing')),
        ];
        last = JSON.stringify(groups);
        const settled = groups.every((g) => Number(g.pending) === 0 && Number(g.lag ?? 0) === 0);
        return groups.length > 0 && settled ? true : undefined;
      },
      () => last,
    );

    expect(await s.redis.listLength('list:dlq')).toBe(0);
  });
});
