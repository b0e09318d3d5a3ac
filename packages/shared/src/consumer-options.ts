import { hostname } from 'node:os';
import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { exponentialBackoff, type RetryBackoff } from './backoff.js';
import { DEAD_LETTER_LIST, DEFAULT_CLAIM_IDLE_MS, DEFAULT_MAX_ATTEMPTS } from './constants.js';
import { ConfigurationError } from './errors/configuration-error.js';
import { silentLogger } from './silent-logger.js';

/** What a handler knows about the entry it is given. */
export interface HandlerContext {
  /** Stream entry id, e.g. `1733325600000-0`. */
  readonly entryId: string;
  /** The producer's unique event id: the key for idempotent handling. */
  readonly eventId: string;
  /** Full protobuf type name of the event. */
  readonly typeName: string;
  /** 1 for the first handler call; Redis's delivery count, so it survives crashes. */
  readonly attempt: number;
  /** The `producer` field of the entry. */
  readonly producer: string;
  readonly publishedAt: Date;
  /** W3C trace context of the publisher, when it had one. */
  readonly traceparent: string | undefined;
  /** Bound to stream, group, consumer, entryId, eventId, type and attempt. */
  readonly logger: Logger;
  /** Aborted when stop() gives up waiting for this handler. */
  readonly signal: AbortSignal;
}

/**
 * Handles one event. Resolve `true` to acknowledge it, `false` to have it
 * retried; a thrown error is a retry too (its message is kept for the dead
 * letter), except a PermanentError, which dead-letters at once.
 */
export type StreamHandler<S extends readonly DescMessage[]> = (
  event: MessageShape<S[number]>,
  context: HandlerContext,
) => Promise<boolean>;

/** Options of a StreamConsumer; see the defaults in the README. */
export interface StreamConsumerOptions<S extends readonly DescMessage[]> {
  /** Used for acknowledgements, claims and dead letters; duplicated for blocking reads. */
  redis: Redis;
  stream: string;
  group: string;
  /** Schemas of the event types this group handles; other types are acknowledged and skipped. */
  handles: S;
  handler: StreamHandler<S>;
  /**
   * Unique per running instance. Default: `<hostname>-<pid>-<random>`. Give a
   * stable one (a StatefulSet pod name) to pick up your own pending entries
   * at once after a restart instead of after claimIdleMs.
   */
  consumerName?: string;
  /** Handlers in flight at once. Default 1. */
  concurrency?: number;
  /**
   * Entries read ahead of free handler slots, held in memory. Default 0: an
   * entry is read only when a handler can start on it, so slow handlers never
   * hoard work another instance could do. Raise it for many fast handlers.
   */
  prefetch?: number;
  /** Handler calls before an entry is dead-lettered. Default 3. */
  maxAttempts?: number;
  /** Entries pending longer than this are claimed from other consumers. Default 60,000 ms. */
  claimIdleMs?: number;
  /** How often to look for idle entries to claim. Default claimIdleMs / 4. */
  claimIntervalMs?: number;
  /** BLOCK of XREADGROUP. Default 5,000 ms. */
  blockMs?: number;
  /** Delay before a retry. Default exponentialBackoff(): 1 s, 2 s, 4 s... up to 30 s, jittered. */
  retryBackoff?: RetryBackoff;
  /** Default DEAD_LETTER_LIST (`list:dlq`). */
  deadLetterList?: string;
  /**
   * Where a new group starts. Default `0`: the whole stream, so that events
   * published before the first consumer started are not lost.
   */
  startId?: string;
  /** Consumers idle this long with nothing pending are removed from the group. Default one day. */
  removeIdleConsumersAfterMs?: number;
  /** Default for stop()'s timeoutMs. Default 10,000 ms. */
  stopTimeoutMs?: number;
  /** Silent when absent. */
  logger?: Logger;
}

/** StreamConsumerOptions with every default filled in. */
export interface ResolvedConsumerOptions<S extends readonly DescMessage[]> {
  redis: Redis;
  stream: string;
  group: string;
  handles: S;
  handler: StreamHandler<S>;
  consumerName: string;
  concurrency: number;
  prefetch: number;
  maxAttempts: number;
  claimIdleMs: number;
  claimIntervalMs: number;
  blockMs: number;
  retryBackoff: RetryBackoff;
  deadLetterList: string;
  startId: string;
  removeIdleConsumersAfterMs: number;
  stopTimeoutMs: number;
  logger: Logger;
}

/** A consumer name unique to this process: host, pid and a random suffix. */
export function defaultConsumerName(): string {
  return `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Fills in defaults, then validates; throws ConfigurationError naming the option. */
export function resolveConsumerOptions<S extends readonly DescMessage[]>(
  options: StreamConsumerOptions<S>,
): ResolvedConsumerOptions<S> {
  const claimIdleMs = options.claimIdleMs ?? DEFAULT_CLAIM_IDLE_MS;
  const resolved: ResolvedConsumerOptions<S> = {
    redis: options.redis,
    stream: options.stream,
    group: options.group,
    handles: options.handles,
    handler: options.handler,
    consumerName: options.consumerName ?? defaultConsumerName(),
    concurrency: options.concurrency ?? 1,
    prefetch: options.prefetch ?? 0,
    maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    claimIdleMs,
    claimIntervalMs: options.claimIntervalMs ?? Math.max(10, Math.floor(claimIdleMs / 4)),
    blockMs: options.blockMs ?? 5_000,
    retryBackoff: options.retryBackoff ?? exponentialBackoff(),
    deadLetterList: options.deadLetterList ?? DEAD_LETTER_LIST,
    startId: options.startId ?? '0',
    removeIdleConsumersAfterMs: options.removeIdleConsumersAfterMs ?? 86_400_000,
    stopTimeoutMs: options.stopTimeoutMs ?? 10_000,
    logger: options.logger ?? silentLogger(),
  };

  const fail = (message: string): never => {
    throw new ConfigurationError(`StreamConsumer: ${message}`);
  };
  if (resolved.stream === '') fail('`stream` is empty');
  if (resolved.group === '') fail('`group` is empty');
  if (resolved.consumerName === '') fail('`consumerName` is empty');
  if (resolved.handles.length === 0) fail('`handles` lists no event type');
  if (!isPositiveInteger(resolved.concurrency)) fail('`concurrency` must be an integer >= 1');
  if (!(Number.isInteger(resolved.prefetch) && resolved.prefetch >= 0)) {
    fail('`prefetch` must be an integer >= 0');
  }
  if (!isPositiveInteger(resolved.maxAttempts)) fail('`maxAttempts` must be an integer >= 1');
  if (!(resolved.claimIdleMs > 0)) fail('`claimIdleMs` must be > 0');
  if (!(resolved.claimIntervalMs > 0)) fail('`claimIntervalMs` must be > 0');
  if (!isPositiveInteger(resolved.blockMs)) fail('`blockMs` must be an integer >= 1');
  if (!(resolved.stopTimeoutMs >= 0)) fail('`stopTimeoutMs` must be >= 0');
  return resolved;
}

/**
 * A command or socket timeout shorter than BLOCK would cut every idle read
 * short with an error: reported at start rather than left to fail silently.
 */
export function assertTimeoutsFitBlock(redis: Redis, blockMs: number): void {
  const { commandTimeout, socketTimeout } = redis.options;
  if (typeof commandTimeout === 'number' && commandTimeout <= blockMs) {
    throw new ConfigurationError(
      `StreamConsumer: the connection's commandTimeout (${commandTimeout} ms) must be longer than ` +
        `blockMs (${blockMs} ms); raise commandTimeout or lower blockMs`,
    );
  }
  if (typeof socketTimeout === 'number' && socketTimeout <= blockMs) {
    throw new ConfigurationError(
      `StreamConsumer: the connection's socketTimeout (${socketTimeout} ms) must be longer than ` +
        `blockMs (${blockMs} ms); raise socketTimeout or lower blockMs`,
    );
  }
}

function isPositiveInteger(value: number): boolean {
  return Number.isInteger(value) && value >= 1;
}
