import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { failureFields } from './failure-log.js';
import { logError } from './log-error.js';

/**
 * Collects acknowledgements and sends them as one XACK per event-loop turn:
 * awaiting one XACK per entry caps a consumer at a round trip per entry.
 * An id counts as settled only once Redis has taken its XACK.
 */
export class AckBatcher {
  readonly #redis: Redis;
  readonly #stream: string;
  readonly #group: string;
  readonly #failureLogKey: string;
  readonly #onSettled: (ids: string[]) => void;
  readonly #logger: Logger;
  #ids: string[] = [];
  #failureFields: string[] = [];
  #scheduled = false;
  #running: Promise<void> | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #failures = 0;

  constructor(options: {
    redis: Redis;
    stream: string;
    group: string;
    failureLogKey: string;
    onSettled: (ids: string[]) => void;
    logger: Logger;
  }) {
    this.#redis = options.redis;
    this.#stream = options.stream;
    this.#group = options.group;
    this.#failureLogKey = options.failureLogKey;
    this.#onSettled = options.onSettled;
    this.#logger = options.logger;
  }

  /** Ids waiting for their XACK. */
  get size(): number {
    return this.#ids.length;
  }

  /** Queues `id`; `hadFailures` also clears its failure log fields. */
  add(id: string, hadFailures: boolean): void {
    this.#ids.push(id);
    if (hadFailures) this.#failureFields.push(...failureFields(id));
    if (this.#scheduled || this.#running !== undefined || this.#retryTimer !== undefined) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      void this.#drain();
    });
  }

  /** Sends everything queued now; resolves when Redis answered or the attempt failed. */
  async flush(): Promise<void> {
    if (this.#retryTimer !== undefined) {
      clearTimeout(this.#retryTimer);
      this.#retryTimer = undefined;
    }
    await this.#drain();
  }

  /** Stops retrying in the background. */
  close(): void {
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
  }

  #drain(): Promise<void> {
    if (this.#running !== undefined) return this.#running;
    this.#running = this.#sendAll().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #sendAll(): Promise<void> {
    while (this.#ids.length > 0) {
      const ids = this.#ids;
      const fields = this.#failureFields;
      this.#ids = [];
      this.#failureFields = [];
      try {
        if (fields.length === 0) {
          await this.#redis.xack(this.#stream, this.#group, ...ids);
        } else {
          const results = await this.#redis
            .pipeline()
            .xack(this.#stream, this.#group, ...ids)
            .hdel(this.#failureLogKey, ...fields)
            .exec();
          const failed = results?.find(([error]) => error !== null);
          if (failed?.[0]) throw failed[0];
        }
      } catch (error) {
        // Kept for the next attempt; until then the entries stay pending and,
        // should this process die, are redelivered: at least once.
        this.#ids = ids.concat(this.#ids);
        this.#failureFields = fields.concat(this.#failureFields);
        this.#scheduleRetry(error);
        return;
      }
      if (this.#failures > 0) this.#logger.info({ ids: ids.length }, 'acknowledgements resumed');
      this.#failures = 0;
      this.#onSettled(ids);
    }
  }

  #scheduleRetry(error: unknown): void {
    this.#failures += 1;
    if (this.#failures === 1) {
      this.#logger.warn(
        { err: logError(error), ids: this.#ids.length },
        'acknowledgement failed, will retry',
      );
    }
    const delayMs = Math.min(100 * 2 ** Math.min(this.#failures, 6), 5_000);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      void this.#drain();
    }, delayMs);
    this.#retryTimer.unref();
  }
}
