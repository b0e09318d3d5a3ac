import { spawn } from 'node:child_process';
import { appendFile } from 'node:fs/promises';

/** Output kept from one command, so a huge build log cannot fill memory. */
const MAX_OUTPUT_CHARS = 4 * 1024 * 1024;

/** How to call Compose here: `docker compose` (v2) or `docker-compose` (v1). */
export interface ComposeCommand {
  argv: readonly string[];
  version: string;
}

/** A command exited non-zero or ran past its time limit. */
export class CommandError extends Error {
  override readonly name = 'CommandError';

  constructor(
    readonly argv: readonly string[],
    readonly exitCode: number | null,
    readonly output: string,
  ) {
    super(
      `${argv.join(' ')} ${exitCode === null ? 'timed out or was killed' : `exited ${exitCode}`}` +
        `\n${output.slice(-4000)}`,
    );
  }
}

/** Result of a command that exited 0. */
export interface CommandResult {
  stdout: string;
  stderr: string;
}

/**
 * Runs `argv` without a shell and resolves with its output when it exits 0.
 * `timeoutMs` kills it; `logFile` receives a copy of everything it printed.
 */
export function runCommand(
  argv: readonly string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs: number; logFile?: string },
): Promise<CommandResult> {
  const [file, ...args] = argv;
  if (file === undefined) return Promise.reject(new Error('empty command'));
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: options.timeoutMs,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (stdout.length < MAX_OUTPUT_CHARS) stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < MAX_OUTPUT_CHARS) stderr += chunk;
    });
    child.once('error', reject);
    child.once('close', async (code) => {
      if (options.logFile !== undefined) {
        const record = `\n$ ${argv.join(' ')}\n${stdout}${stderr}[exit ${code}]\n`;
        await appendFile(options.logFile, record).catch(() => {});
      }
      if (code === 0) resolve({ stdout, stderr });
      else reject(new CommandError(argv, code, `${stdout}${stderr}`));
    });
  });
}

/**
 * Finds Compose: the `docker compose` plugin when it answers, else the v1
 * `docker-compose` command. Throws with a message naming both when neither works.
 */
export async function findCompose(): Promise<ComposeCommand> {
  for (const argv of [['docker', 'compose'], ['docker-compose']]) {
    try {
      const { stdout } = await runCommand([...argv, 'version', '--short'], { timeoutMs: 30_000 });
      return { argv, version: stdout.trim() };
    } catch {
      // Not installed or not working; try the next one.
    }
  }
  throw new Error('neither `docker compose` nor `docker-compose` works here: install one of them');
}

/** What a compose project is made of. */
export interface ComposeProjectOptions {
  command: ComposeCommand;
  /** Project name; unique per test run, so no other stack is ever touched. */
  name: string;
  /** The project folder: where `.env` is read and relative paths start. */
  directory: string;
  /** Compose files in order: the repository's, then overrides. */
  files: readonly string[];
  /** Interpolation variables, on top of this process's environment. */
  env: Record<string, string>;
  /** Every command and its output is appended here. */
  logFile: string;
}

/** One compose project, driven through the Compose command line. */
export class ComposeProject {
  readonly name: string;
  readonly command: ComposeCommand;
  readonly #options: ComposeProjectOptions;

  constructor(options: ComposeProjectOptions) {
    if (!/^[a-z0-9][a-z0-9_-]*$/.test(options.name)) {
      throw new Error(`project name "${options.name}" must be lowercase letters, digits, - or _`);
    }
    this.name = options.name;
    this.command = options.command;
    this.#options = options;
  }

  /** Runs `compose <args>` for this project and returns what it printed. */
  run(args: readonly string[], timeoutMs: number): Promise<CommandResult> {
    const { command, name, directory, files, env, logFile } = this.#options;
    const argv = [...command.argv, '--project-name', name, '--project-directory', directory];
    for (const file of files) argv.push('--file', file);
    argv.push(...args);
    return runCommand(argv, { env: { ...process.env, ...env }, timeoutMs, logFile });
  }

  /** Ids of the project's containers, stopped ones too, all or one service's. */
  async containerIds(service?: string): Promise<string[]> {
    // v2 lists running containers only unless told `--all`; v1 takes it too.
    const args = ['ps', '--all', '--quiet'];
    if (service !== undefined) args.push(service);
    const { stdout } = await this.run(args, 60_000);
    return stdout.split('\n').filter((line) => line.trim() !== '');
  }
}
