import type { Redis } from 'ioredis';
import {
  LIFECYCLE_EVENTS,
  type LifecycleEventName,
  type LifecycleRecord,
  TERMINAL_EVENTS,
} from './lifecycle-event.js';
import { type RunView, type StoredRun, toRunView } from './run-view.js';

/** Key names of the run records; documented in the README. */
export const RUN_KEY_PREFIX = 'reporunner:run:';
export const RUN_INDEX_KEY = 'reporunner:runs';

const EVENT_FIELD_PREFIX = 'event:';

/**
 * Run records in Redis: a hash per run (`reporunner:run:<runId>`) holding the
 * request and the first copy of each lifecycle event, and a sorted set
 * (`reporunner:runs`) of run ids by creation time for listing. Every write is
 * HSETNX inside MULTI, so a redelivered or late event changes nothing it
 * should not, and two orchestrators can record the same event at once.
 */
export class RunStore {
  /**
   * @param ttlSeconds how long a run is kept after its last event; 0 keeps
   *   runs forever. Each event renews it; the listing forgets expired runs.
   */
  constructor(
    private readonly redis: Redis,
    private readonly ttlSeconds = 0,
  ) {}

  /** Records one lifecycle event. Returns false when that event was already recorded. */
  async record(event: LifecycleRecord): Promise<boolean> {
    const key = RUN_KEY_PREFIX + event.runId;
    const transaction = this.redis.multi();
    transaction.hsetnx(key, EVENT_FIELD_PREFIX + event.event, JSON.stringify(event));
    if (event.event === 'RunRequested') {
      transaction.hsetnx(key, 'repoUrl', String(event.details.repoUrl ?? ''));
      transaction.hsetnx(key, 'ref', String(event.details.ref ?? ''));
      transaction.hsetnx(key, 'createdAt', String(event.atMs));
      transaction.zadd(RUN_INDEX_KEY, 'NX', event.atMs, event.runId);
    }
    if (TERMINAL_EVENTS.includes(event.event)) transaction.hsetnx(key, 'terminal', event.event);
    if (this.ttlSeconds > 0) {
      transaction.expire(key, this.ttlSeconds);
      // Listing entries older than any kept run point at expired hashes.
      const horizon = Date.now() - this.ttlSeconds * 1000;
      transaction.zremrangebyscore(RUN_INDEX_KEY, '-inf', `(${horizon}`);
    }
    const results = await transaction.exec();
    if (results === null) throw new Error('run record transaction was aborted');
    const failed = results.find(([error]) => error !== null);
    if (failed?.[0]) throw failed[0];
    return results[0]?.[1] === 1;
  }

  /** The run, or undefined when no event of it has been recorded. */
  async get(runId: string): Promise<RunView | undefined> {
    const fields = await this.redis.hgetall(RUN_KEY_PREFIX + runId);
    return parseRun(runId, fields);
  }

  /** The `limit` most recently created runs, newest first. */
  async list(limit: number): Promise<RunView[]> {
    const ids = await this.redis.zrange(RUN_INDEX_KEY, 0, limit - 1, 'REV');
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(RUN_KEY_PREFIX + id);
    const results = (await pipeline.exec()) ?? [];
    return ids.flatMap((id, index) => {
      const fields = results[index]?.[1] as Record<string, string> | undefined;
      const run = fields ? parseRun(id, fields) : undefined;
      return run ? [run] : [];
    });
  }
}

function parseRun(runId: string, fields: Record<string, string>): RunView | undefined {
  const events: StoredRun['events'] = {};
  for (const name of LIFECYCLE_EVENTS) {
    const text = fields[EVENT_FIELD_PREFIX + name];
    if (text !== undefined) events[name] = JSON.parse(text) as LifecycleRecord;
  }
  if (Object.keys(events).length === 0) return undefined;
  const terminal = fields.terminal as LifecycleEventName | undefined;
  const firstSeen = Math.min(...Object.values(events).map((event) => event.atMs));
  return toRunView({
    runId,
    repoUrl: fields.repoUrl ?? '',
    ref: fields.ref ?? '',
    createdAtMs: fields.createdAt === undefined ? firstSeen : Number(fields.createdAt),
    terminal: terminal && TERMINAL_EVENTS.includes(terminal) ? terminal : undefined,
    events,
  });
}
