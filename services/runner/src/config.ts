import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import {
  ConfigError,
  type Env,
  EnvReader,
  readServiceConfig,
  type ServiceConfig,
} from '@reporunner/service-kit';

/** The runner's settings; see README.md for each variable. */
export interface RunnerConfig extends ServiceConfig {
  /** WORKSPACES_DIR: absolute directory shared with the builder. */
  workspacesDir: string;
  /** COMMAND_TIMEOUT_MS: limit of the run command; default 10 min. */
  commandTimeoutMs: number;
  /** LOG_TAIL_BYTES: how much output an event carries. */
  logTailBytes: number;
  /** KEEP_WORKSPACES: leave workspaces on disk after the run (for debugging). */
  keepWorkspaces: boolean;
}

/** Reads and checks the runner's settings; throws ConfigError naming the variable. */
export function loadConfig(source: Env): RunnerConfig {
  const env = new EnvReader(source);
  const workspacesDir = env.string('WORKSPACES_DIR', join(tmpdir(), 'reporunner', 'workspaces'));
  if (!isAbsolute(workspacesDir)) {
    throw new ConfigError('WORKSPACES_DIR', 'must be an absolute path');
  }
  return {
    ...readServiceConfig(env, { port: 3002, concurrency: 2 }),
    workspacesDir,
    commandTimeoutMs: env.int('COMMAND_TIMEOUT_MS', 600_000, { min: 100 }),
    logTailBytes: env.int('LOG_TAIL_BYTES', 16_384, { min: 256, max: 1_048_576 }),
    keepWorkspaces: env.bool('KEEP_WORKSPACES', false),
  };
}
