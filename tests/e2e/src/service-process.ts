import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/** The four services, by package name. */
export const SERVICES = ['orchestrator', 'builder', 'runner', 'indexer'] as const;
export type ServiceName = (typeof SERVICES)[number];

/** Every service process started by this file, so an exit handler can kill what is left. */
const started = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of started) child.kill('SIGKILL');
});

/**
 * One service started from its built output (`dist/main.js`, resolved through
 * the package's exports), with its JSON log lines kept in memory and copied
 * to a file for reading after a failure.
 */
export class ServiceProcess {
  readonly lines: Record<string, unknown>[] = [];
  #child: ChildProcess | undefined;
  #exit: Promise<number | null> | undefined;
  #log: WriteStream;

  constructor(
    readonly name: ServiceName,
    readonly port: number,
    readonly env: Record<string, string>,
    logFile: string,
  ) {
    this.#log = createWriteStream(logFile, { flags: 'a' });
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  start(): void {
    const main = fileURLToPath(import.meta.resolve(`@reporunner/${this.name}`));
    const child = spawn(process.execPath, [main], {
      env: { ...this.env, PORT: String(this.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    started.add(child);
    this.#child = child;
    this.#exit = new Promise((resolve) => {
      child.once('exit', (code) => {
        started.delete(child);
        resolve(code);
      });
    });
    let partial = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      this.#log.write(chunk);
      const text = partial + chunk.toString('utf8');
      const parts = text.split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        try {
          this.lines.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          this.lines.push({ raw: line });
        }
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => this.#log.write(chunk));
  }

  /** Resolves when /health/ready answers 200; throws after `timeoutMs`. */
  async waitReady(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if ((await this.readyStatus()) === 200) return;
      await sleep(100);
    }
    throw new Error(`${this.name} was not ready within ${timeoutMs} ms`);
  }

  /** The status code of /health/ready (or another health path), or 0 when nothing answers. */
  async readyStatus(path = '/health/ready'): Promise<number> {
    try {
      const response = await fetch(`${this.baseUrl}${path}`, {
        signal: AbortSignal.timeout(5_000),
      });
      await response.body?.cancel();
      return response.status;
    } catch {
      return 0;
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code (null when killed). */
  async stop(graceMs = 15_000): Promise<number | null> {
    const child = this.#child;
    const exit = this.#exit;
    if (!child || !exit) return null;
    this.#child = undefined;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    const code = await exit;
    clearTimeout(timer);
    return code;
  }

  /** stop(), then closes the log file; resolves with the exit code. */
  async close(): Promise<number | null> {
    const code = await this.stop();
    await new Promise((resolve) => this.#log.end(resolve));
    return code;
  }
}
