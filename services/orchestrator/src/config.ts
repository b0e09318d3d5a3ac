import {
  type Env,
  EnvReader,
  REPO_SCHEMES,
  type RepoScheme,
  readServiceConfig,
  type ServiceConfig,
} from '@reporunner/service-kit';

/** The orchestrator's group on both streams. */
export const GROUP_ORCHESTRATOR = 'group:orchestrator';

/** The orchestrator's settings; see README.md for each variable. */
export interface OrchestratorConfig extends ServiceConfig {
  /** ALLOWED_REPO_SCHEMES: schemes POST /runs accepts, default `https`; `file` allows local paths. */
  allowedSchemes: RepoScheme[];
  /** BODY_LIMIT_BYTES: largest POST /runs body; larger ones answer 400. */
  bodyLimitBytes: number;
  /** RUN_TTL_SECONDS: how long a run record is kept after its last event; 0 keeps them forever. */
  runTtlSeconds: number;
}

/** Reads and checks the orchestrator's settings; throws ConfigError naming the variable. */
export function loadConfig(source: Env): OrchestratorConfig {
  const env = new EnvReader(source);
  return {
    ...readServiceConfig(env, { port: 3000, concurrency: 8 }),
    allowedSchemes: env.listOf('ALLOWED_REPO_SCHEMES', ['https'], REPO_SCHEMES),
    bodyLimitBytes: env.int('BODY_LIMIT_BYTES', 4096, { min: 256, max: 1_048_576 }),
    runTtlSeconds: env.int('RUN_TTL_SECONDS', 7 * 24 * 3600, { min: 0 }),
  };
}
