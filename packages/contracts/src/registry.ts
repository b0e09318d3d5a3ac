import {
  createRegistry,
  type DescMessage,
  fromBinary,
  type Message,
  type MessageShape,
  toBinary,
} from '@bufbuild/protobuf';
import { EventDecodeError } from './event-decode-error.js';
import { file_reporunner_events_v1_common } from './gen/reporunner/events/v1/common_pb.js';
import { file_reporunner_events_v1_indexing_events } from './gen/reporunner/events/v1/indexing_events_pb.js';
import { file_reporunner_events_v1_run_events } from './gen/reporunner/events/v1/run_events_pb.js';

/**
 * Every message of the contracts, by full type name (for example
 * `reporunner.events.v1.RunRequested`). The stream library uses it to decode an
 * entry knowing only the type name stored beside the payload.
 */
export const eventRegistry = createRegistry(
  file_reporunner_events_v1_common,
  file_reporunner_events_v1_run_events,
  file_reporunner_events_v1_indexing_events,
);

/** Returns the schema registered under `typeName`, or undefined. */
export function findEventSchema(typeName: string): DescMessage | undefined {
  return eventRegistry.getMessage(typeName);
}

/** Encodes a contract message to its binary protobuf form. */
export function encodeEvent(message: Message): { typeName: string; payload: Uint8Array } {
  const schema = findEventSchema(message.$typeName);
  if (schema === undefined) {
    throw new EventDecodeError(
      'unknown-type',
      message.$typeName,
      `cannot encode ${message.$typeName}: not a registered contract message`,
    );
  }
  return { typeName: schema.typeName, payload: toBinary(schema, message) };
}

/**
 * Decodes `payload` as the message named `typeName`. Throws EventDecodeError
 * when the type is unknown, the bytes are not a valid message of that type, or a
 * required field (a non-empty `run_id` on messages that have one) is missing.
 */
export function decodeEvent(typeName: string, payload: Uint8Array): Message {
  const schema = findEventSchema(typeName);
  if (schema === undefined) {
    throw new EventDecodeError('unknown-type', typeName, `unknown event type "${typeName}"`);
  }
  return decodeAs(schema, payload);
}

/** Like decodeEvent, for a schema the caller already holds. */
export function decodeAs<Desc extends DescMessage>(
  schema: Desc,
  payload: Uint8Array,
): MessageShape<Desc> {
  let message: MessageShape<Desc>;
  try {
    message = fromBinary(schema, payload);
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw new EventDecodeError(
      'invalid-payload',
      schema.typeName,
      `payload is not a valid ${schema.typeName}: ${detail}`,
      { cause },
    );
  }
  assertRequiredFields(schema, message);
  return message;
}

// proto3 has no required fields; a run id is what every consumer keys on, so an
// event without one can never be processed and is rejected at decode time.
function assertRequiredFields(schema: DescMessage, message: Message): void {
  const runIdField = schema.fields.find((field) => field.name === 'run_id');
  if (runIdField === undefined) return;
  const runId = (message as unknown as Record<string, unknown>)[runIdField.localName];
  if (typeof runId !== 'string' || runId.length === 0) {
    throw new EventDecodeError(
      'missing-field',
      schema.typeName,
      `${schema.typeName} has no run_id`,
    );
  }
}
