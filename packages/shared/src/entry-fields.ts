/**
 * The field layout of a stream entry, shared by every producer and consumer in
 * any language. Field names are ASCII; values are strings except `payload`.
 *
 * | field          | value                                                  |
 * | -------------- | ------------------------------------------------------ |
 * | `type`         | full protobuf type name, `reporunner.events.v1.RunRequested` |
 * | `payload`      | the message in protobuf binary encoding (raw bytes)    |
 * | `event_id`     | a UUID, unique per published event                      |
 * | `producer`     | the producer's name                                      |
 * | `published_at` | publish time, RFC 3339 UTC with milliseconds             |
 * | `traceparent`  | W3C trace context, only when a trace was active          |
 */
export const EntryField = {
  type: 'type',
  payload: 'payload',
  eventId: 'event_id',
  producer: 'producer',
  publishedAt: 'published_at',
  traceparent: 'traceparent',
} as const;

/** What a producer writes beside the payload. */
export interface EntryHeaders {
  typeName: string;
  eventId: string;
  producer: string;
  publishedAt: Date;
  traceparent?: string | undefined;
}

/** Builds the XADD field/value arguments for one event. */
export function encodeEntryFields(headers: EntryHeaders, payload: Uint8Array): (string | Buffer)[] {
  const fields: (string | Buffer)[] = [
    EntryField.type,
    headers.typeName,
    EntryField.payload,
    Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength),
    EntryField.eventId,
    headers.eventId,
    EntryField.producer,
    headers.producer,
    EntryField.publishedAt,
    headers.publishedAt.toISOString(),
  ];
  if (headers.traceparent !== undefined) fields.push(EntryField.traceparent, headers.traceparent);
  return fields;
}

/** A stream entry as read: its id and fields, or null fields when deleted. */
export interface RawEntry {
  id: string;
  fields: Map<string, Buffer> | null;
}

/**
 * Parses the entries part of an XREADGROUP, XCLAIM or XAUTOCLAIM reply read
 * with Buffer replies: `[[id, [field, value, ...] | null], ...]`.
 */
export function parseEntries(reply: unknown): RawEntry[] {
  if (!Array.isArray(reply)) return [];
  const entries: RawEntry[] = [];
  for (const item of reply) {
    if (!Array.isArray(item)) continue;
    const [id, flat] = item as [Buffer | string, (Buffer | string)[] | null];
    entries.push({
      id: typeof id === 'string' ? id : id.toString('latin1'),
      fields: Array.isArray(flat) ? fieldMap(flat) : null,
    });
  }
  return entries;
}

function fieldMap(flat: (Buffer | string)[]): Map<string, Buffer> {
  const fields = new Map<string, Buffer>();
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = flat[i];
    const value = flat[i + 1];
    if (name === undefined || value === undefined) continue;
    // Field names are ASCII: latin1 decodes them faster than UTF-8.
    const key = typeof name === 'string' ? name : name.toString('latin1');
    fields.set(key, typeof value === 'string' ? Buffer.from(value) : value);
  }
  return fields;
}
