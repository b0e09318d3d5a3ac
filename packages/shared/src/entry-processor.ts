import { setTimeout as sleep } from 'node:timers/promises';
import type { DescMessage } from '@bufbuild/protobuf';
import { type ConsumerContext, cleanDeleted } from './consumer-context.js';
import { buildDeadLetter, type DeadLetterReason, writeDeadLetter } from './dead-letter.js';
import type { Delivery, DeliveryRunner, Outcome } from './delivery-runner.js';
import { readFailure, recordFailure } from './failure-log.js';
import { claimEntries } from './group-commands.js';

/**
 * Takes one entry through its attempts: the handler call (DeliveryRunner),
 * then the acknowledgement, a retry after a backoff, or the dead letter.
 */
export class EntryProcessor<S extends readonly DescMessage[]> {
  readonly #context: ConsumerContext<S>;
  readonly #runner: DeliveryRunner<S>;

  constructor(context: ConsumerContext<S>, runner: DeliveryRunner<S>) {
    this.#context = context;
    this.#runner = runner;
  }

  /**
   * Runs one entry through attempts until it is acknowledged, dead-lettered
   * or left pending. The first attempt's common outcome (acknowledge) is
   * settled without an async function's frame: this runs once per entry.
   */
  process(first: Delivery): Promise<void> {
    return this.#runner.run(first).then((outcome) => this.#settle(first, outcome));
  }

  #settle(delivery: Delivery, outcome: Outcome): Promise<void> | undefined {
    if (outcome.kind === 'ack' || outcome.kind === 'skip') {
      if (outcome.kind === 'ack') this.#context.counters.handled += 1;
      else this.#context.counters.skipped += 1;
      this.#context.acks.add(delivery.id, delivery.attempt > 1);
      return undefined;
    }
    return this.#processFailed(delivery, outcome);
  }

  /** Dead-letters the entry or retries it after a backoff, attempt after attempt. */
  async #processFailed(failed: Delivery, firstOutcome: Outcome): Promise<void> {
    const { counters, options, at, failureLogKey, state, pool } = this.#context;
    let delivery = failed;
    let outcome = firstOutcome;
    for (;;) {
      if (outcome.kind === 'ack' || outcome.kind === 'skip') {
        this.#settle(delivery, outcome);
        return;
      }
      if (outcome.kind === 'dead-letter') {
        await this.#deadLetter(delivery, outcome.reason, outcome.error);
        return;
      }

      // A failed attempt: recorded in Redis so the dead letter knows it even
      // if this process dies before the next attempt.
      const failedAt = new Date();
      await recordFailure(at.redis, failureLogKey, delivery.id, outcome.error, failedAt);
      if (delivery.attempt >= options.maxAttempts) {
        await this.#deadLetter(delivery, 'max-attempts', outcome.error);
        return;
      }
      counters.retried += 1;
      if (!state.running) {
        // Left pending with its delivery count: retried after a restart.
        pool.held.delete(delivery.id);
        return;
      }
      const next = await this.#redeliverAfterBackoff(delivery);
      if (next === undefined) return;
      delivery = next;
      outcome = await this.#runner.run(delivery);
    }
  }

  async #redeliverAfterBackoff(delivery: Delivery): Promise<Delivery | undefined> {
    const delayMs = this.#context.options.retryBackoff(delivery.attempt);
    try {
      await sleep(delayMs, undefined, { signal: this.#context.stopReading });
    } catch {
      this.#context.pool.held.delete(delivery.id);
      return undefined;
    }
    // XCLAIM counts the new delivery, so the attempt number lives in Redis.
    const [entry] = await claimEntries(this.#context.at, [delivery.id]);
    if (entry === undefined || entry.fields === null) {
      cleanDeleted(this.#context, [delivery.id]);
      return undefined;
    }
    return { id: delivery.id, fields: entry.fields, attempt: delivery.attempt + 1 };
  }

  async #deadLetter(delivery: Delivery, reason: DeadLetterReason, error: string): Promise<void> {
    const { at, options, failureLogKey, counters, logger, pool } = this.#context;
    try {
      const failure = await readFailure(at.redis, failureLogKey, delivery.id);
      const letter = buildDeadLetter({
        stream: at.stream,
        group: at.group,
        consumer: at.consumer,
        entryId: delivery.id,
        fields: delivery.fields,
        // An entry past its budget was delivered once more only to be dead-lettered.
        attempts:
          reason === 'max-attempts'
            ? Math.min(delivery.attempt, options.maxAttempts)
            : delivery.attempt,
        reason,
        error,
        failure,
      });
      const written = await writeDeadLetter(
        at.redis,
        options.deadLetterList,
        failureLogKey,
        letter,
      );
      if (!written) return;
      counters.deadLettered += 1;
      logger.warn(
        {
          entryId: delivery.id,
          eventId: letter.eventId,
          type: letter.typeName,
          attempt: delivery.attempt,
          reason,
          err: { message: letter.lastError },
        },
        'entry dead-lettered',
      );
    } finally {
      pool.held.delete(delivery.id);
    }
  }
}
