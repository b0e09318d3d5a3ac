import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ComposeProject, findCompose } from './compose-project.js';
import { type ContainerState, describeStates, inspectContainers } from './container-state.js';
import { createFixtureRepos, type FixtureRepo } from './fixture-repos.js';
import { OrchestratorClient } from './orchestrator-client.js';
import { pollUntil } from './poll.js';
import { StackRedis } from './stack-redis.js';

/** The repository root, where docker-compose.yml and the Dockerfile live. */
export const REPO_ROOT = resolve(import.meta.dirname, '../../..');

/** Where the fixture repositories are mounted (read-only) in the containers. */
export const FIXTURES_MOUNT = '/fixtures';

/** Seconds `down` and `stop` give each container before killing it. */
export const STOP_TIMEOUT_S = 45;

/** Services of docker-compose.yml that run our images. */
export const APP_SERVICES = ['orchestrator', 'builder', 'runner', 'indexer'] as const;

/**
 * A compose stack of its own for one test run: a unique project name, the
 * orchestrator on a free loopback port, a random Redis password, and fixture
 * repositories mounted read-only with `file` URLs allowed (an override file).
 */
export class TestStack {
  readonly project: ComposeProject;
  readonly api: OrchestratorClient;
  readonly redis: StackRedis;
  readonly #workDir: string;

  private constructor(workDir: string, project: ComposeProject, port: number) {
    this.#workDir = workDir;
    this.project = project;
    this.api = new OrchestratorClient(`http://127.0.0.1:${port}`);
    this.redis = new StackRedis(project);
  }

  /** Writes fixtures and the override file; starts nothing yet. */
  static async create(fixtures: readonly FixtureRepo[]): Promise<TestStack> {
    const command = await findCompose();
    const workDir = await mkdtemp(join(tmpdir(), 'reporunner-compose-'));
    const fixturesDir = join(workDir, 'repos');
    await createFixtureRepos(fixturesDir, fixtures);

    const override = join(workDir, 'docker-compose.test.yml');
    await writeFile(override, overrideFile(fixturesDir));

    const port = await freeLoopbackPort();
    const name = `rrcompose${process.pid}${randomBytes(3).toString('hex')}`;
    const project = new ComposeProject({
      command,
      name,
      directory: REPO_ROOT,
      files: [join(REPO_ROOT, 'docker-compose.yml'), override],
      env: {
        ORCHESTRATOR_HOST: '127.0.0.1',
        ORCHESTRATOR_PORT: String(port),
        REDIS_PASSWORD: randomBytes(16).toString('hex'),
        // The default of docker-compose.yml; `stop` and `down` pass the same timeout.
        STOP_GRACE_PERIOD: `${STOP_TIMEOUT_S}s`,
      },
      logFile: join(workDir, 'compose.log'),
    });
    return new TestStack(workDir, project, port);
  }

  /** The URL the containers use for a fixture repository. */
  repoUrl(fixture: FixtureRepo): string {
    return `file://${FIXTURES_MOUNT}/${fixture.name}`;
  }

  /** Builds the four images from the Dockerfile. */
  async build(): Promise<void> {
    // The classic builder, which v1 drives, keeps the container of a failed
    // step unless told not to; BuildKit keeps none, and v2 has no such flag.
    const v1 = this.project.command.argv[0] === 'docker-compose';
    await this.project.run(v1 ? ['build', '--force-rm'] : ['build'], 25 * 60_000);
  }

  /** `up --detach`, with `builder` containers; waits until all are healthy. */
  async up(builders = 1): Promise<ContainerState[]> {
    await this.project.run(
      ['up', '--detach', '--no-build', '--scale', `builder=${builders}`],
      5 * 60_000,
    );
    return this.waitHealthy(4 + builders);
  }

  /** Waits until `count` containers run and report healthy. */
  async waitHealthy(count: number): Promise<ContainerState[]> {
    let states: ContainerState[] = [];
    return pollUntil(
      `${count} healthy containers`,
      { attempts: 180, intervalMs: 1_000, timeoutMs: 3 * 60_000 },
      async () => {
        states = await inspectContainers(await this.project.containerIds());
        const healthy = states.filter((s) => s.status === 'running' && s.health === 'healthy');
        return healthy.length === count && states.length === count ? states : undefined;
      },
      () => describeStates(states),
    );
  }

  /** The last lines of every service's log, for a failure report. */
  async logs(lines = 150): Promise<string> {
    try {
      const { stdout } = await this.project.run(
        ['logs', '--no-color', '--tail', `${lines}`],
        60_000,
      );
      return stdout;
    } catch (error) {
      return `(could not read the logs: ${(error as Error).message})`;
    }
  }

  /**
   * Removes the project's containers, networks and volumes, then the fixtures.
   * Each step runs even when the one before failed.
   */
  async destroy(): Promise<void> {
    const problems: string[] = [];
    try {
      await this.project.run(
        ['down', '--volumes', '--remove-orphans', '--timeout', `${STOP_TIMEOUT_S}`],
        5 * 60_000,
      );
    } catch (error) {
      problems.push((error as Error).message);
    }
    await rm(this.#workDir, { recursive: true, force: true }).catch((error: Error) =>
      problems.push(error.message),
    );
    if (problems.length > 0) throw new Error(`teardown failed: ${problems.join('; ')}`);
  }
}

function overrideFile(fixturesDir: string): string {
  // JSON is YAML, and it quotes the host path whatever it contains.
  const mount = `${fixturesDir}:${FIXTURES_MOUNT}:ro`;
  const allowFile = { ALLOWED_REPO_SCHEMES: 'https,file' };
  const override = {
    services: {
      orchestrator: { environment: allowFile },
      builder: { environment: allowFile, volumes: [mount] },
      indexer: { environment: allowFile, volumes: [mount] },
    },
  };
  return `${JSON.stringify(override, null, 2)}\n`;
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}
