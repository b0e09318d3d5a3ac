import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { logError } from './log-error.js';
import { silentLogger } from './silent-logger.js';

/** Options of createRedis. */
export interface CreateRedisOptions {
  /** Shown by CLIENT LIST; helps find a service's connections. */
  connectionName?: string;
  /** Receives connection lifecycle logs; silent when absent. */
  logger?: Logger;
  /** Extra ioredis options, applied last. */
  redisOptions?: RedisOptions;
}

/**
 * Returns `url` with its password replaced by `***`, safe to log. A string
 * that is not a URL comes back as `<invalid redis url>`, because it might be
 * a bare password.
 */
export function redactRedisUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '<invalid redis url>';
  }
  if (parsed.password !== '') parsed.password = '***';
  return parsed.toString();
}

/**
 * Connects to the Redis at `url` (`redis://` or `rediss://` for TLS, with
 * optional `user:password@` for ACL users and `/db`). Auto-pipelining is on, so
 * concurrent commands share round trips. Reconnects forever with a capped
 * backoff; the password never reaches a log line.
 */
export function createRedis(url: string, options: CreateRedisOptions = {}): Redis {
  const logger = (options.logger ?? silentLogger()).child({ redis: redactRedisUrl(url) });
  const parsed = parseRedisUrl(url);

  const redis = new Redis(url, {
    enableAutoPipelining: true,
    // Each reconnect waits a little longer, up to two seconds, with jitter so
    // that a fleet does not reconnect in lockstep after a Redis restart.
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2_000) + Math.random() * 100,
    ...(options.connectionName === undefined ? {} : { connectionName: options.connectionName }),
    ...options.redisOptions,
    ...(parsed.protocol === 'rediss:' ? { tls: tlsOptions(parsed, options.redisOptions) } : {}),
  });

  let down = false;
  redis.on('ready', () => {
    if (down) logger.info('redis connection restored');
    down = false;
  });
  redis.on('error', (error: Error) => {
    // One line per outage, not one per reconnect attempt.
    if (down) return;
    down = true;
    logger.warn({ err: logError(error) }, 'redis connection error');
  });
  return redis;
}

// The host name goes out as SNI, except an IP address, which TLS forbids
// there (RFC 6066); extra settings (a private CA) are merged in.
function tlsOptions(parsed: URL, extra: RedisOptions | undefined): ConnectionOptions {
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  return {
    ...(isIP(host) === 0 ? { servername: host } : {}),
    ...(extra?.tls ?? {}),
  };
}

function parseRedisUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Never echo the string: it may hold a password.
    throw new TypeError('createRedis: the Redis URL is not a valid URL');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new TypeError(
      `createRedis: the Redis URL must start with redis:// or rediss://, not ${parsed.protocol}//`,
    );
  }
  return parsed;
}
