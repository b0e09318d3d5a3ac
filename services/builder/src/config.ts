import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import {
  ConfigError,
  type Env,
  EnvReader,
  REPO_SCHEMES,
  type RepoScheme,
  readServiceConfig,
  type ServiceConfig,
} from '@reporunner/service-kit';

/** The builder's settings; see README.md for each variable. */
export interface BuilderConfig extends ServiceConfig {
  /** WORKSPACES_DIR: absolute directory shared with the runner. */
  workspacesDir: string;
  /** ALLOWED_REPO_SCHEMES: transports git may use, default `https`. */
  allowedSchemes: RepoScheme[];
  /** COMMAND_TIMEOUT_MS: limit for each command (git fetch, install, build); default 10 min. */
  commandTimeoutMs: number;
  /** LOG_TAIL_BYTES: how much output an event carries. */
  logTailBytes: number;
}

/** Reads and checks the builder's settings; throws ConfigError naming the variable. */
export function loadConfig(source: Env): BuilderConfig {
  const env = new EnvReader(source);
  const workspacesDir = env.string('WORKSPACES_DIR', join(tmpdir(), 'reporunner', 'workspaces'));
  if (!isAbsolute(workspacesDir))
    throw new ConfigError('WORKSPACES_DIR', 'must be an absolute path');
  return {
    ...readServiceConfig(env, { port: 3001, concurrency: 2 }),
    workspacesDir,
    allowedSchemes: env.listOf('ALLOWED_REPO_SCHEMES', ['https'], REPO_SCHEMES),
    commandTimeoutMs: env.int('COMMAND_TIMEOUT_MS', 600_000, { min: 100 }),
    logTailBytes: env.int('LOG_TAIL_BYTES', 16_384, { min: 256, max: 1_048_576 }),
  };
}
