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

/** The indexer's settings; see README.md for each variable. */
export interface IndexerConfig extends ServiceConfig {
  /** INDEX_DIR: absolute directory for the indexer's own temporary checkouts. */
  indexDir: string;
  /** ALLOWED_REPO_SCHEMES: transports git may use, default `https`. */
  allowedSchemes: RepoScheme[];
  /** COMMAND_TIMEOUT_MS: limit of each git command; default 10 min. */
  commandTimeoutMs: number;
}

/** Reads and checks the indexer's settings; throws ConfigError naming the variable. */
export function loadConfig(source: Env): IndexerConfig {
  const env = new EnvReader(source);
  const indexDir = env.string('INDEX_DIR', join(tmpdir(), 'reporunner', 'index'));
  if (!isAbsolute(indexDir)) throw new ConfigError('INDEX_DIR', 'must be an absolute path');
  return {
    ...readServiceConfig(env, { port: 3003, concurrency: 2 }),
    indexDir,
    allowedSchemes: env.listOf('ALLOWED_REPO_SCHEMES', ['https'], REPO_SCHEMES),
    commandTimeoutMs: env.int('COMMAND_TIMEOUT_MS', 600_000, { min: 100 }),
  };
}
