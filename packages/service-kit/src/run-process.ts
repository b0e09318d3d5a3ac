import { type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { LogTail } from './log-tail.js';

/** What to run. The command is an argument vector; no shell ever parses it. */
export interface RunProcessOptions {
  /** Program then arguments, for example `['npm', 'test']`. */
  argv: readonly string[];
  cwd: string;
  /** The full environment of the child (see cleanEnv); nothing is inherited. */
  env: Record<string, string>;
  /** Wall-clock limit; past it the whole process group is killed. */
  timeoutMs: number;
  /** How much of the combined stdout/stderr to keep. */
  logTailBytes: number;
  /** Aborting kills the process group too (a service shutting down). */
  signal?: AbortSignal;
}

/** How a process ended: exactly one of the three. */
export type ProcessOutcome =
  | { kind: 'exit'; exitCode: number }
  | { kind: 'timeout' }
  | { kind: 'signal'; signal: string };

/** The result of runProcess. It never throws for the child's own failures. */
export interface ProcessResult {
  outcome: ProcessOutcome;
  /** The last logTailBytes of combined output. */
  logTail: string;
  durationMs: number;
  /** Set when the program could not be started (ENOENT, EACCES). */
  spawnError?: string;
}

// After the leader exits, a grandchild may still hold the pipes open; the
// group is killed then, and this bounds the wait for the pipes to close.
const PIPE_DRAIN_MS = 2_000;

/**
 * Runs an untrusted command in its own process group, so that on timeout,
 * abort, or when the leader exits, every process it started is killed with
 * one `kill(-pgid)`. A process that calls setsid() itself leaves the group and
 * escapes this; containment past that needs a container or cgroup.
 */
export function runProcess(options: RunProcessOptions): Promise<ProcessResult> {
  const [program, ...args] = options.argv;
  if (program === undefined || program === '') throw new TypeError('argv must not be empty');
  const started = performance.now();
  const tail = new LogTail(options.logTailBytes);

  let child: ChildProcessByStdio<null, Readable, Readable>;
  try {
    child = spawn(program, args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      shell: false,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    // spawn() throws, instead of emitting 'error', for arguments it refuses
    // (a NUL byte from a reporunner.json): still the command's own failure.
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    return Promise.resolve({
      outcome: outcomeOf(undefined, false, false),
      logTail: '',
      durationMs: Math.round(performance.now() - started),
      spawnError: `cannot start ${program}: ${code}`,
    });
  }

  return new Promise((resolve) => {
    let timedOut = false;
    let aborted = false;
    let spawnError: string | undefined;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let settled = false;
    let drainTimer: NodeJS.Timeout | undefined;

    const killGroup = () => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // ESRCH: the group is already empty.
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, options.timeoutMs);
    const onAbort = () => {
      aborted = true;
      killGroup();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) onAbort();

    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(drainTimer);
      options.signal?.removeEventListener('abort', onAbort);
      resolve({
        outcome: outcomeOf(exit, timedOut, aborted),
        logTail: tail.text(),
        durationMs: Math.round(performance.now() - started),
        ...(spawnError === undefined ? {} : { spawnError }),
      });
    };

    child.stdout.on('data', (chunk: Buffer) => tail.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => tail.push(chunk));
    child.once('error', (error: NodeJS.ErrnoException) => {
      spawnError = `cannot start ${program}: ${error.code ?? error.message}`;
      exit ??= { code: null, signal: null };
      finish();
    });
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      clearTimeout(timer);
      // Leftover background processes of a finished command die with it.
      killGroup();
      drainTimer = setTimeout(finish, PIPE_DRAIN_MS);
    });
    child.once('close', finish);
  });
}

function outcomeOf(
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined,
  timedOut: boolean,
  aborted: boolean,
): ProcessOutcome {
  if (timedOut) return { kind: 'timeout' };
  if (aborted) return { kind: 'signal', signal: 'SIGKILL' };
  if (exit?.code !== null && exit?.code !== undefined) return { kind: 'exit', exitCode: exit.code };
  if (exit?.signal) return { kind: 'signal', signal: exit.signal };
  return { kind: 'exit', exitCode: 127 };
}

/** A short phrase for logs and reasons: "exit code 2", "timed out after 5s". */
export function describeOutcome(outcome: ProcessOutcome, timeoutMs: number): string {
  switch (outcome.kind) {
    case 'exit':
      return `exit code ${outcome.exitCode}`;
    case 'timeout':
      return `timed out after ${formatSeconds(timeoutMs)}`;
    case 'signal':
      return `killed by ${outcome.signal}`;
  }
}

function formatSeconds(ms: number): string {
  const seconds = ms / 1000;
  return Number.isInteger(seconds) ? `${seconds}s` : `${seconds.toFixed(1)}s`;
}
