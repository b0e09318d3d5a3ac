import type { Redis } from 'ioredis';
import {
  CONFLICTING_EVENTS,
  LATEST_START_WINS,
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

// One event into one run record, atomically (EVAL runs alone on the server).
// ARGV[11] is -1 for an event whose first copy stands, or n >= 0 for one
// whose latest start wins until an outcome (ARGV[12..11+n]) is recorded; the
// fields after those are conflicting outcomes that refuse the event. The
// first terminal event becomes `terminal`. RunRequested also sets the request
// fields and the listing entry. Each write renews the TTL.
const RECORD_EVENT_SCRIPT = `
local settledBy = tonumber(ARGV[11])
local firstConflict = 12 + math.max(settledBy, 0)
for i = firstConflict, #ARGV do
  if redis.call('HEXISTS', KEYS[1], ARGV[i]) == 1 then return 0 end
end
if settledBy < 0 then
  if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
else
  local stored = redis.call('HGET', KEYS[1], ARGV[1])
  if stored then
    if cjson.decode(stored).atMs >= tonumber(ARGV[7]) then return 0 end
    for i = 12, firstConflict - 1 do
      if redis.call('HEXISTS', KEYS[1], ARGV[i]) == 1 then return 0 end
    end
  end
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
end
if ARGV[3] ~= '' then redis.call('HSETNX', KEYS[1], 'terminal', ARGV[3]) end
if ARGV[4] == '1' then
  redis.call('HSETNX', KEYS[1], 'repoUrl', ARGV[5])
  redis.call('HSETNX', KEYS[1], 'ref', ARGV[6])
  redis.call('HSETNX', KEYS[1], 'createdAt', ARGV[7])
  redis.call('ZADD', KEYS[2], 'NX', ARGV[7], ARGV[8])
end
if tonumber(ARGV[9]) > 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[9])
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[10])
end
return 1
`;

/**
 * Run records in Redis: a hash per run (`reporunner:run:<runId>`) holding the
 * request and one copy of each lifecycle event (the first, or for
 * LATEST_START_WINS the one that started last), and a sorted set
 * (`reporunner:runs`) of run ids by creation time for listing. Every write is
 * one Lua script, so a redelivered, late or contradicting
 * event changes nothing it should not, and two orchestrators can record the
 * same event at once.
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

  /**
   * Records one lifecycle event. Returns false when it changed nothing: a
   * duplicate, or an outcome that contradicts one already recorded.
   */
  async record(event: LifecycleRecord): Promise<boolean> {
    const conflicts = CONFLICTING_EVENTS[event.event].map((name) => EVENT_FIELD_PREFIX + name);
    const settledBy = LATEST_START_WINS[event.event];
    const horizon = this.ttlSeconds > 0 ? Date.now() - this.ttlSeconds * 1000 : 0;
    const written = await this.redis.eval(
      RECORD_EVENT_SCRIPT,
      2,
      RUN_KEY_PREFIX + event.runId,
      RUN_INDEX_KEY,
      EVENT_FIELD_PREFIX + event.event,
      JSON.stringify(event),
      TERMINAL_EVENTS.includes(event.event) ? event.event : '',
      event.event === 'RunRequested' ? '1' : '0',
      String(event.details.repoUrl ?? ''),
      String(event.details.ref ?? ''),
      String(event.atMs),
      event.runId,
      String(this.ttlSeconds),
      String(horizon),
      String(settledBy?.length ?? -1),
      ...(settledBy ?? []).map((name) => EVENT_FIELD_PREFIX + name),
      ...conflicts,
    );
    return written === 1;
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
