import type { ComposeProject } from './compose-project.js';

/** Prefix of every event type name in the streams. */
const EVENT_PACKAGE = 'reporunner.events.v1.';

/** One stream entry as redis-cli shows it: id and fields, payload left as text. */
export interface StreamEntry {
  id: string;
  fields: Record<string, string>;
}

/**
 * The stack's Redis, reached with `redis-cli` inside the redis container (the
 * container's REDISCLI_AUTH holds the password), so the test needs neither a
 * published Redis port nor a client library.
 */
export class StackRedis {
  constructor(readonly project: ComposeProject) {}

  /**
   * Runs one command and returns the reply parsed from redis-cli's
   * `--quoted-json` output, in which binary payloads are escaped ASCII.
   */
  async command(...args: string[]): Promise<unknown> {
    const { stdout } = await this.project.run(
      ['exec', '-T', 'redis', 'redis-cli', '--no-auth-warning', '--quoted-json', ...args],
      60_000,
    );
    return JSON.parse(stdout);
  }

  /** Every entry of `stream`, oldest first. */
  async entries(stream: string): Promise<StreamEntry[]> {
    const reply = await this.command('XRANGE', stream, '-', '+');
    if (!Array.isArray(reply)) return [];
    return reply.map((item) => {
      const [id, flat] = item as [string, string[]];
      const fields: Record<string, string> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) {
        fields[flat[i] as string] = flat[i + 1] as string;
      }
      return { id, fields };
    });
  }

  /**
   * Short type names (`RunRequested`, ...) of the entries of `stream` that
   * belong to `runId`, in stream order. The run id travels inside the protobuf
   * payload as plain UTF-8, so it shows in the escaped text.
   */
  async lifecycle(stream: string, runId: string): Promise<string[]> {
    const entries = await this.entries(stream);
    return entries
      .filter((entry) => entry.fields.payload?.includes(runId))
      .map((entry) => (entry.fields.type ?? '?').replace(EVENT_PACKAGE, ''));
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
