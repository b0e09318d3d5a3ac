import type { Redis } from 'ioredis';
import { EntryField } from './entry-fields.js';
import { type FailureRecord, failureFields } from './failure-log.js';
import { LuaScript } from './lua-script.js';

/** Why an entry was dead-lettered. */
export type DeadLetterReason = 'max-attempts' | 'undecodable' | 'permanent-error';

/** The JSON document pushed onto the dead-letter list. */
export interface DeadLetter {
  stream: string;
  group: string;
  consumer: string;
  entryId: string;
  /** Null when the entry had no readable `event_id`. */
  eventId: string | null;
  /** Null when the entry had no readable `type`. */
  typeName: string | null;
  /** The entry's `payload` bytes, base64; null when the entry had none. */
  payload: string | null;
  /** Handler calls made (Redis's delivery count for the last one). */
  attempts: number;
  reason: DeadLetterReason;
  lastError: string;
  /** RFC 3339; the first failure recorded for the entry by any consumer. */
  firstFailureAt: string;
  lastFailureAt: string;
  /** The entry's `producer` and `published_at`, when present. */
  producer: string | null;
  publishedAt: string | null;
  deadLetteredAt: string;
}

/** Builds the dead letter of an entry from its fields and its failure record. */
export function buildDeadLetter(input: {
  stream: string;
  group: string;
  consumer: string;
  entryId: string;
  fields: Map<string, Buffer>;
  attempts: number;
  reason: DeadLetterReason;
  /** The error of this last step; the failure record's is preferred when present. */
  error: string;
  failure: FailureRecord | undefined;
}): DeadLetter {
  const now = new Date();
  const text = (name: string) => input.fields.get(name)?.toString() ?? null;
  const payload = input.fields.get(EntryField.payload);
  return {
    stream: input.stream,
    group: input.group,
    consumer: input.consumer,
    entryId: input.entryId,
    eventId: text(EntryField.eventId),
    typeName: text(EntryField.type),
    payload: payload === undefined ? null : payload.toString('base64'),
    attempts: input.attempts,
    reason: input.reason,
    lastError: input.failure?.lastError ?? input.error,
    firstFailureAt: (input.failure?.firstFailureAt ?? now).toISOString(),
    lastFailureAt: (input.failure?.lastFailureAt ?? now).toISOString(),
    producer: text(EntryField.producer),
    publishedAt: text(EntryField.publishedAt),
    deadLetteredAt: now.toISOString(),
  };
}

// Acknowledge first and push only if the acknowledgement took: two consumers
// racing on one entry (one of them claimed it late) write one dead letter.
// Both steps run in one script, so nothing is lost and nothing left pending.
const deadLetterScript = new LuaScript(`
local acked = redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
if acked == 1 then
  redis.call('RPUSH', KEYS[2], ARGV[3])
end
redis.call('HDEL', KEYS[3], ARGV[4], ARGV[5])
return acked
`);

/**
 * Pushes `letter` onto `list` and acknowledges its entry, atomically. Resolves
 * to false when the entry was no longer pending in the group (someone else
 * settled it), in which case nothing was pushed.
 */
export async function writeDeadLetter(
  redis: Redis,
  list: string,
  failureLogKey: string,
  letter: DeadLetter,
): Promise<boolean> {
  const [first, last] = failureFields(letter.entryId);
  const acked = await deadLetterScript.run(
    redis,
    [letter.stream, list, failureLogKey],
    [letter.group, letter.entryId, JSON.stringify(letter), first, last],
  );
  return acked === 1;
}
