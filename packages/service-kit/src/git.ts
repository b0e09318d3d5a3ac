import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { RepoScheme } from './repo-url.js';
import { describeOutcome, type ProcessOutcome, runProcess } from './run-process.js';

const execFileAsync = promisify(execFile);

/** Settings for every git command of a service. */
export interface GitSettings {
  /** Transports git may use; every other one is refused by git itself. */
  allowedSchemes: readonly RepoScheme[];
  /** Environment from cleanEnv; git-specific variables are added on top. */
  env: Record<string, string>;
  timeoutMs: number;
  logTailBytes: number;
  /** Aborting kills a running git (a service shutting down). */
  signal?: AbortSignal;
}

/** A repository checked out at one commit. */
export interface FetchedCommit {
  commitSha: string;
}

/** git failed; `reason` is one line fit for an event, `logTail` the output. */
export class GitError extends Error {
  override readonly name = 'GitError';

  constructor(
    readonly reason: string,
    readonly outcome: ProcessOutcome | undefined,
    readonly logTail: string,
  ) {
    super(reason);
  }
}

/**
 * Options that come before every git subcommand. `protocol.allow=never` with
 * one `protocol.<name>.allow=always` per allowed scheme makes git refuse any
 * other transport (notably `ext::`, which runs a command) even through
 * redirects. Hooks are switched off and the user's and system's config ignored
 * (see gitEnv), so nothing outside these options changes what git does.
 */
export function gitConfigArgs(allowed: readonly RepoScheme[]): string[] {
  const args = ['-c', 'protocol.allow=never'];
  for (const scheme of allowed) args.push('-c', `protocol.${scheme}.allow=always`);
  args.push('-c', 'core.hooksPath=/dev/null', '-c', 'advice.detachedHead=false');
  return args;
}

/** The environment git runs in: non-interactive, no user or system config. */
export function gitEnv(base: Record<string, string>): Record<string, string> {
  return {
    ...base,
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_SSH_COMMAND: 'ssh -o BatchMode=yes',
  };
}

/**
 * Fetches `ref` of `url` (its default branch when `ref` is empty) at depth 1
 * into the new directory `dir` and checks it out. URL and ref always come
 * after `--`, so neither can be read as an option, whatever it contains.
 * Throws GitError with a one-line reason when git fails.
 */
export async function fetchCommit(
  settings: GitSettings,
  url: string,
  ref: string,
  dir: string,
): Promise<FetchedCommit> {
  if (ref.startsWith('-')) throw new GitError(`invalid ref "${ref}"`, undefined, '');
  await mkdir(dir, { recursive: true });

  await runGit(settings, dir, 'init', ['init', '--quiet']);
  await runGit(settings, dir, 'fetch', [
    'fetch',
    '--depth',
    '1',
    '--no-tags',
    '--quiet',
    '--',
    url,
    ref === '' ? 'HEAD' : ref,
  ]);
  await runGit(settings, dir, 'checkout', ['checkout', '--quiet', '--detach', 'FETCH_HEAD']);

  const commitSha = (await gitOutput(settings, dir, ['rev-parse', 'HEAD'])).toString('utf8').trim();
  return { commitSha };
}

/**
 * Paths of the tracked files of the checkout in `dir`, as the bytes git lists.
 * A name need not be UTF-8 (git stores bytes), so decoding one into a string
 * would name a file that does not exist; open them as Buffers.
 */
export async function trackedFiles(settings: GitSettings, dir: string): Promise<Buffer[]> {
  const output = await gitOutput(settings, dir, ['ls-files', '-z']);
  // -z ends every name with a NUL byte.
  const paths: Buffer[] = [];
  let start = 0;
  for (let end = output.indexOf(0); end !== -1; end = output.indexOf(0, start)) {
    paths.push(output.subarray(start, end));
    start = end + 1;
  }
  return paths;
}

async function runGit(
  settings: GitSettings,
  cwd: string,
  step: string,
  args: string[],
): Promise<void> {
  const result = await runProcess({
    argv: ['git', ...gitConfigArgs(settings.allowedSchemes), ...args],
    cwd,
    env: gitEnv(settings.env),
    timeoutMs: settings.timeoutMs,
    logTailBytes: settings.logTailBytes,
    ...(settings.signal === undefined ? {} : { signal: settings.signal }),
  });
  if (result.outcome.kind === 'exit' && result.outcome.exitCode === 0) return;
  if (settings.signal?.aborted) throw new Error(`git ${step} interrupted by shutdown`);
  const why =
    result.spawnError ??
    firstFatalLine(result.logTail) ??
    describeOutcome(result.outcome, settings.timeoutMs);
  const timedOut = result.outcome.kind === 'timeout';
  throw new GitError(
    `git ${step} failed: ${timedOut ? describeOutcome(result.outcome, settings.timeoutMs) : why}`,
    result.outcome,
    result.logTail,
  );
}

// Only for commands on a checkout we made, whose output we need whole. The
// output is bytes: file names in it need not be UTF-8.
async function gitOutput(settings: GitSettings, cwd: string, args: string[]): Promise<Buffer> {
  try {
    const { stdout } = await execFileAsync(
      'git',
      [...gitConfigArgs(settings.allowedSchemes), ...args],
      {
        cwd,
        env: gitEnv(settings.env),
        timeout: settings.timeoutMs,
        maxBuffer: 256 * 1024 * 1024,
        encoding: 'buffer',
      },
    );
    return stdout;
  } catch (error) {
    const stderr = String((error as { stderr?: string | Buffer }).stderr ?? '');
    const why = firstFatalLine(stderr) ?? (error instanceof Error ? error.message : String(error));
    throw new GitError(`git ${args[0]} failed: ${why}`, undefined, stderr);
  }
}

/** The first `fatal:` or `error:` line of git's output, without the prefix. */
export function firstFatalLine(output: string): string | undefined {
  for (const line of output.split('\n')) {
    const match = /^(?:fatal|error): (.+)$/.exec(line.trim());
    if (match?.[1]) return match[1];
  }
  return undefined;
}
