/** Why bytes could not be turned into an event. */
export type EventDecodeFailure = 'unknown-type' | 'invalid-payload' | 'missing-field';

/**
 * Thrown when a stream entry cannot be decoded into a contract event. It is a
 * permanent failure: retrying the same bytes gives the same answer, so consumers
 * dead-letter such entries at once.
 */
export class EventDecodeError extends Error {
  override readonly name = 'EventDecodeError';

  constructor(
    readonly failure: EventDecodeFailure,
    readonly typeName: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
