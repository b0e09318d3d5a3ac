import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('./fixtures/consumer-child.ts', import.meta.url));
const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));

/** A consumer child process and the lines it printed so far. */
export interface ConsumerChild {
  readonly process: ChildProcess;
  readonly lines: string[];
  /** Resolves once a printed line satisfies `match`. */
  waitForLine(match: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /** SIGKILL, then wait for the exit. */
  kill(): Promise<void>;
}

/** Starts test/fixtures/consumer-child.ts with node; needs a built dist/. */
export function startConsumerChild(settings: Record<string, unknown>): ConsumerChild {
  if (!existsSync(dist)) {
    throw new Error('dist/ is missing: run `pnpm build` in packages/shared before these tests');
  }
  const child = spawn(process.execPath, [script, JSON.stringify(settings)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const listeners = new Set<() => void>();
  let buffered = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    lines.push(...parts);
    for (const listener of listeners) listener();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  return {
    process: child,
    lines,
    waitForLine(match, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const line = lines.find(match);
          if (line === undefined) return;
          cleanup();
          resolve(line);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`child printed no matching line; it printed: ${lines.join(' | ')}`));
        }, timeoutMs);
        const onExit = () => {
          cleanup();
          reject(new Error(`child exited; it printed: ${lines.join(' | ')}`));
        };
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
          child.off('exit', onExit);
        };
        listeners.add(check);
        child.once('exit', onExit);
        check();
      });
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
