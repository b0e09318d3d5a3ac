import type { EnvReader } from './env-reader.js';

/** Settings every service has, read by readServiceConfig. */
export interface ServiceConfig {
  /** REDIS_URL: `redis://` or `rediss://`, default `redis://127.0.0.1:6379`. */
  redisUrl: string;
  /** HOST: address the HTTP server binds, default `127.0.0.1`. */
  host: string;
  /** PORT: HTTP port for the API and health endpoints; 0 picks a free one. */
  port: number;
  /** LOG_LEVEL: pino level, default `info`. */
  logLevel: string;
  /** CONSUMER_NAME: a stable consumer name; default unique per process (see packages/shared). */
  consumerName: string | undefined;
  /** CONCURRENCY: handlers in flight per consumer. */
  concurrency: number;
  /** SHUTDOWN_TIMEOUT_MS: how long SIGTERM waits for in-flight handlers, default 10 s. */
  shutdownTimeoutMs: number;
  /** LAG_WARNING_THRESHOLD: lag at which readiness reports Degraded (still ready). */
  lagWarningThreshold: number;
  /** LAG_UNHEALTHY_THRESHOLD: lag at which readiness fails. */
  lagUnhealthyThreshold: number;
}

/** Defaults a service picks for itself. */
export interface ServiceDefaults {
  port: number;
  concurrency: number;
  lagWarningThreshold?: number;
  lagUnhealthyThreshold?: number;
}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** Reads the settings every service shares; throws ConfigError naming the variable. */
export function readServiceConfig(env: EnvReader, defaults: ServiceDefaults): ServiceConfig {
  const lagWarningThreshold = env.int(
    'LAG_WARNING_THRESHOLD',
    defaults.lagWarningThreshold ?? 100,
    {
      min: 1,
    },
  );
  const lagUnhealthyThreshold = env.int(
    'LAG_UNHEALTHY_THRESHOLD',
    defaults.lagUnhealthyThreshold ?? 1000,
    { min: lagWarningThreshold + 1 },
  );
  return {
    redisUrl: env.redisUrl('REDIS_URL', 'redis://127.0.0.1:6379'),
    host: env.string('HOST', '127.0.0.1'),
    port: env.int('PORT', defaults.port, { min: 0, max: 65535 }),
    logLevel: env.oneOf('LOG_LEVEL', 'info', LOG_LEVELS),
    consumerName: env.raw('CONSUMER_NAME'),
    concurrency: env.int('CONCURRENCY', defaults.concurrency, { min: 1, max: 256 }),
    shutdownTimeoutMs: env.int('SHUTDOWN_TIMEOUT_MS', 10_000, { min: 0 }),
    lagWarningThreshold,
    lagUnhealthyThreshold,
  };
}
