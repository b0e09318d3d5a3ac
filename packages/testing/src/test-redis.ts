import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Redis, type RedisOptions } from 'ioredis';
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
  /**
   * Serve TLS only, with a self-signed certificate for 127.0.0.1 made by
   * `openssl` (which must be on PATH). `url` is then `rediss://` and `tlsCa`
   * holds the certificate to trust. Default false.
   */
  tls?: boolean;
}

/** A real Redis that belongs to one test file; never the shared 6379. */
export interface TestRedis {
  readonly url: string;
  readonly port: number;
  readonly mode: 'container' | 'process';
  /** The PEM certificate to trust when started with `tls`; undefined otherwise. */
  readonly tlsCa: string | undefined;
  /** Stops the server (clients see connection refused) until start(). */
  stop(): Promise<void>;
  /** Starts a stopped server on the same port. `wipe` drops all data first. */
  start(options?: { wipe?: boolean }): Promise<void>;
  /** stop() then start(). */
  restart(options?: { wipe?: boolean }): Promise<void>;
  /** A new ioredis client to this server (trusting tlsCa); close it yourself. */
  client(): Redis;
  /** Stops the server for good and removes its files. */
  close(): Promise<void>;
}

const redisImage = process.env.REPORUNNER_TEST_REDIS_IMAGE ?? 'redis:7-bookworm';

/** Starts a Redis for a test file. */
export async function startTestRedis(options: TestRedisOptions = {}): Promise<TestRedis> {
  const mode = options.mode ?? (await defaultMode());
  const port = await freePort();
  const tls = options.tls ? await makeCertificate() : undefined;
  const server = mode === 'container' ? new ContainerRedis(port, tls) : new ProcessRedis(port, tls);
  await server.init(redisArgs(options));
  return server;
}

/** A self-signed certificate in a directory of its own. */
interface TestCertificate {
  dir: string;
  ca: string;
}

async function makeCertificate(): Promise<TestCertificate> {
  const dir = await mkdtemp(join(tmpdir(), 'reporunner-redis-tls-'));
  await promisify(execFile)('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout',
    join(dir, 'key.pem'),
    '-out',
    join(dir, 'cert.pem'),
  ]);
  // The container's redis user must read the key; it is a throwaway test key.
  await chmod(join(dir, 'key.pem'), 0o644);
  return { dir, ca: await readFile(join(dir, 'cert.pem'), 'utf8') };
}

/** Server arguments that serve TLS only, with the certificate files under `dir`. */
function tlsArgs(port: number, dir: string): string[] {
  return [
    '--port',
    '0',
    '--tls-port',
    String(port),
    '--tls-cert-file',
    join(dir, 'cert.pem'),
    '--tls-key-file',
    join(dir, 'key.pem'),
    '--tls-ca-cert-file',
    join(dir, 'cert.pem'),
    '--tls-auth-clients',
    'no',
  ];
}

function newClient(url: string, ca: string | undefined, options: RedisOptions = {}): Redis {
  return new Redis(url, ca === undefined ? options : { ...options, tls: { ca } });
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

async function waitForPing(url: string, timeoutMs: number, ca?: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const probe = newClient(url, ca, {
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

/**
 * What the two kinds of test Redis share: the URL, the data directory that
 * survives a restart unless wiped, and the lifecycle. Subclasses only know how
 * to launch and halt their server.
 */
abstract class ManagedRedis implements TestRedis {
  abstract readonly mode: 'container' | 'process';
  readonly url: string;
  readonly tlsCa: string | undefined;
  protected readonly tls: TestCertificate | undefined;
  protected dataDir = '';
  protected args: string[] = [];

  constructor(
    readonly port: number,
    tls?: TestCertificate,
  ) {
    this.tls = tls;
    this.tlsCa = tls?.ca;
    this.url = `${tls ? 'rediss' : 'redis'}://127.0.0.1:${port}`;
  }

  protected abstract get running(): boolean;
  /** Starts the server on `port` with `dataDir`; resolves once it answers. */
  protected abstract launch(): Promise<void>;
  /** Stops the server; clients see refused connections afterwards. */
  protected abstract halt(): Promise<void>;

  async init(args: string[]): Promise<void> {
    this.dataDir = await mkdtemp(join(tmpdir(), 'reporunner-redis-'));
    this.args = args;
    await this.start();
  }

  async start(options: { wipe?: boolean } = {}): Promise<void> {
    if (this.running) return;
    if (options.wipe) {
      await rm(this.dataDir, { recursive: true, force: true });
      this.dataDir = await mkdtemp(join(tmpdir(), 'reporunner-redis-'));
    }
    await this.launch();
  }

  async stop(): Promise<void> {
    if (this.running) await this.halt();
  }

  async restart(options: { wipe?: boolean } = {}): Promise<void> {
    await this.stop();
    await this.start(options);
  }

  client(): Redis {
    return newClient(this.url, this.tlsCa);
  }

  async close(): Promise<void> {
    await this.stop();
    await rm(this.dataDir, { recursive: true, force: true });
    if (this.tls) await rm(this.tls.dir, { recursive: true, force: true });
  }
}

class ProcessRedis extends ManagedRedis {
  readonly mode = 'process' as const;
  #child: ChildProcess | undefined;

  protected get running(): boolean {
    return this.#child !== undefined;
  }

  protected async launch(): Promise<void> {
    const listen = this.tls ? tlsArgs(this.port, this.tls.dir) : ['--port', String(this.port)];
    const args = [...listen, '--bind', '127.0.0.1', '--dir', this.dataDir, ...this.args];
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    child.once('exit', () => {
      if (this.#child === child) this.#child = undefined;
    });
    this.#child = child;
    await waitForPing(this.url, 10_000, this.tlsCa);
  }

  protected async halt(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    this.#child = undefined;
  }
}

class ContainerRedis extends ManagedRedis {
  readonly mode = 'container' as const;
  #container: StartedTestContainer | undefined;

  protected get running(): boolean {
    return this.#container !== undefined;
  }

  protected async launch(): Promise<void> {
    // A fixed host port, so that clients reconnect to the same URL after a
    // restart, and a host directory for /data, so that a new container sees
    // the append-only file of the one before.
    const mounts: { source: string; target: string; mode: 'rw' | 'ro' }[] = [
      { source: this.dataDir, target: '/data', mode: 'rw' },
    ];
    if (this.tls) mounts.push({ source: this.tls.dir, target: '/tls', mode: 'ro' });
    const listen = this.tls ? tlsArgs(6379, '/tls') : [];
    this.#container = await new GenericContainer(redisImage)
      .withCommand(['redis-server', ...listen, ...this.args])
      .withExposedPorts({ container: 6379, host: this.port })
      .withBindMounts(mounts)
      .start();
    await waitForPing(this.url, 15_000, this.tlsCa);
  }

  protected async halt(): Promise<void> {
    const container = this.#container;
    if (!container) return;
    this.#container = undefined;
    await container.stop({ remove: true, timeout: 5_000 });
  }
}
