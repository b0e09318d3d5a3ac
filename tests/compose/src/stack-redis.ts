import type { ComposeProject } from './compose-project.js';

/** Prefix of every event type name in the streams. */
const EVENT_PACKAGE = 'reporunner.events.v1.';

// KEYS[1] the stream, ARGV[1] the run id; returns the `type` field of each
// entry whose `payload` contains the run id (a plain find, not a pattern).
// https://redis.io/docs/latest/commands/eval/
const LIFECYCLE_SCRIPT = `
local types = {}
for _, entry in ipairs(redis.call('XRANGE', KEYS[1], '-', '+')) do
  local fields, kind, payload = entry[2], nil, nil
  for i = 1, #fields, 2 do
    if fields[i] == 'type' then kind = fields[i + 1] end
    if fields[i] == 'payload' then payload = fields[i + 1] end
  end
  if kind and payload and string.find(payload, ARGV[1], 1, true) then
    types[#types + 1] = kind
  end
end
return types
`;

/**
 * The stack's Redis, reached with `redis-cli` inside the redis container (the
 * container's REDISCLI_AUTH holds the password), so the test needs neither a
 * published Redis port nor a client library.
 */
export class StackRedis {
  constructor(readonly project: ComposeProject) {}

  /**
   * Runs one command and returns the reply parsed from redis-cli's
   * `--quoted-json` output. Only for replies without binary values: redis-cli
   * does not always escape those into valid JSON.
   */
  async command(...args: string[]): Promise<unknown> {
    const { stdout } = await this.project.run(
      ['exec', '-T', 'redis', 'redis-cli', '--no-auth-warning', '--quoted-json', ...args],
      60_000,
    );
    return JSON.parse(stdout);
  }

  /**
   * Short type names (`RunRequested`, ...) of the entries of `stream` that
   * belong to `runId`, in stream order. The run id travels inside the binary
   * protobuf payload as plain UTF-8; a Lua script picks the entries whose
   * payload holds it, so only type names (ASCII) leave Redis.
   */
  async lifecycle(stream: string, runId: string): Promise<string[]> {
    const reply = await this.command('EVAL', LIFECYCLE_SCRIPT, '1', stream, runId);
    if (!Array.isArray(reply)) return [];
    return reply.map((type) => String(type).replace(EVENT_PACKAGE, ''));
  }

  /** `XINFO GROUPS stream` as objects: name, consumers, pending, lag. */
  async groups(stream: string): Promise<Record<string, unknown>[]> {
    const reply = await this.command('XINFO', 'GROUPS', stream);
    return Array.isArray(reply) ? reply.map(toObject) : [];
  }

  /** `XINFO CONSUMERS stream group` as objects: name, pending, idle. */
  async consumers(stream: string, group: string): Promise<Record<string, unknown>[]> {
    const reply = await this.command('XINFO', 'CONSUMERS', stream, group);
    return Array.isArray(reply) ? reply.map(toObject) : [];
  }

  /** Length of a list, for example `list:dlq`. */
  async listLength(key: string): Promise<number> {
    return Number(await this.command('LLEN', key));
  }
}

// XINFO replies come as a flat [name, value, name, value] array in RESP2 and
// as a map in RESP3; redis-cli's JSON shows either.
function toObject(item: unknown): Record<string, unknown> {
  if (!Array.isArray(item)) return (item ?? {}) as Record<string, unknown>;
  const object: Record<string, unknown> = {};
  for (let i = 0; i + 1 < item.length; i += 2) object[String(item[i])] = item[i + 1];
  return object;
}
