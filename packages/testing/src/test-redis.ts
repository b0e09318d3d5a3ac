import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import {
  GenericContainer,
  getContainerRuntimeClient,
  type StartedTestContainer,
} from 'testcontainers';
import { freePort } from './free-port.js';

/** Options for a test Redis. */
export interface TestRedisOptions {
  /** Turn on append-only persistence so a restart keeps the data. Default false. */
  appendOnly?: boolean;
  /**
   * `container` or `process`; default from REPORUNNER_TEST_REDIS, else a
   * container when a Docker engine answers, else a process.
   */
  mode?: 'container' | 'process';
}

/** A real Redis that belongs to one test file; never the shared 6379. */
export interface TestRedis {
  readonly url: string;
  readonly port: number;
  readonly mode: 'container' | 'process';
  /** Stops the server (clients see connection refused) until start(). */
  stop(): Promise<void>;
  /** Starts a stopped server on the same port. `wipe` drops all data first. */
  start(options?: { wipe?: boolean }): Promise<void>;
  /** stop() then start(). */
  restart(options?: { wipe?: boolean }): Promise<void>;
  /** A new ioredis client to this server; close it yourself. */
  client(): Redis;
  /** Stops the server for good and removes its files. */
  close(): Promise<void>;
}

const redisImage = process.env.REPORUNNER_TEST_REDIS_IMAGE ?? 'redis:7-bookworm';

/** Starts a Redis for a test file. */
export async function startTestRedis(options: TestRedisOptions = {}): Promise<TestRedis> {
  const mode = options.mode ?? (await defaultMode());
  const port = await freePort();
  const server = mode === 'container' ? new ContainerRedis(port) : new ProcessRedis(port);
  await server.init(redisArgs(options));
  return server;
}

async function defaultMode(): Promise<'container' | 'process'> {
  const wanted = process.env.REPORUNNER_TEST_REDIS;
  if (wanted === 'container' || wanted === 'process') return wanted;
  try {
    await getContainerRuntimeClient();
    return 'container';
  } catch {
    return 'process';
  }
}

function redisArgs(options: TestRedisOptions): string[] {
  // No RDB snapshots: a restart keeps data only when append-only is on, so
  // tests choose exactly which kind of restart they get.
  const args = ['--save', '', '--appendonly', options.appendOnly ? 'yes' : 'no'];
  if (options.appendOnly) args.push('--appendfsync', 'always');
  return args;
}

async function waitForPing(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const probe = new Redis(url, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    probe.on('error', () => {});
    try {
      await probe.connect();
      // A server still loading its append-only file answers LOADING.
      if ((await probe.ping()) === 'PONG') return;
    } catch (error) {
      if (Date.now() > deadline)
        throw new Error(`test Redis at ${url} did not answer`, { cause: error });
    } finally {
      probe.disconnect();
    }
    await sleep(50);
  }
}

class ProcessRedis implements TestRedis {
  readonly mode = 'process' as const;
  readonly url: string;
  #dir = '';
  #args: string[] = [];
  #child: ChildProcess | undefined;

  constructor(readonly port: number) {
    this.url = `redis://127.0.0.1:${port}`;
  }

  async init(args: string[]): Promise<void> {
    this.#dir = await mkdtemp(join(tmpdir(), 'reporunner-redis-'));
    this.#args = args;
    await this.start();
  }

  async start(options: { wipe?: boolean } = {}): Promise<void> {
    if (this.#child) return;
    if (options.wipe) {
      await rm(this.#dir, { recursive: true, force: true });
      this.#dir = await mkdtemp(join(tmpdir(), 'reporunner-redis-'));
    }
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.#dir];
    const child = spawn('redis-server', [...args, ...this.#args], { stdio: 'ignore' });
    child.once('exit', () => {
      if (this.#child === child) this.#child = undefined;
    });
    this.#child = child;
    await waitForPing(this.url, 10_000);
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    this.#child = undefined;
  }

  async restart(options: { wipe?: boolean } = {}): Promise<void> {
    await this.stop();
    await this.start(options);
  }

  client(): Redis {
    return new Redis(this.url);
  }

  async close(): Promise<void> {
    await this.stop();
    await rm(this.#dir, { recursive: true, force: true });
  }
}

class ContainerRedis implements TestRedis {
  readonly mode = 'container' as const;
  readonly url: string;
  #dir = '';
  #args: string[] = [];
  #container: StartedTestContainer | undefined;

  constructor(readonly port: number) {
    this.url = `redis://127.0.0.1:${port}`;
  }

  async init(args: string[]): Promise<void> {
    this.#dir = await mkdtemp(join(tmpdir(), 'reporunner-redis-'));
    this.#args = args;
    await this.start();
  }

  async start(options: { wipe?: boolean } = {}): Promise<void> {
    if (this.#container) return;
    if (options.wipe) {
      await rm(this.#dir, { recursive: true, force: true });
      this.#dir = await mkdtemp(join(tmpdir(), 'reporunner-redis-'));
    }
    // A fixed host port, so that clients reconnect to the same URL after a
    // restart, and a host directory for /data, so that a new container sees
    // the append-only file of the one before.
    this.#container = await new GenericContainer(redisImage)
      .withCommand(['redis-server', ...this.#args])
      .withExposedPorts({ container: 6379, host: this.port })
      .withBindMounts([{ source: this.#dir, target: '/data', mode: 'rw' }])
      .start();
    await waitForPing(this.url, 15_000);
  }

  async stop(): Promise<void> {
    const container = this.#container;
    if (!container) return;
    this.#container = undefined;
    await container.stop({ remove: true, timeout: 5_000 });
  }

  async restart(options: { wipe?: boolean } = {}): Promise<void> {
    await this.stop();
    await this.start(options);
  }

  client(): Redis {
    return new Redis(this.url);
  }

  async close(): Promise<void> {
    await this.stop();
    await rm(this.#dir, { recursive: true, force: true });
  }
}
