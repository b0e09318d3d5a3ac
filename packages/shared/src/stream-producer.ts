import { randomUUID } from 'node:crypto';
import type { Message } from '@bufbuild/protobuf';
import { encodeEvent } from '@reporunner/contracts';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { encodeEntryFields } from './entry-fields.js';
import { ConfigurationError } from './errors/configuration-error.js';
import { logError } from './log-error.js';
import { silentLogger } from './silent-logger.js';
import { activeTraceparent } from './trace-context.js';
import { trimAcknowledged } from './trim.js';

/** Safe trimming of a stream: see trimAcknowledged. */
export interface ProducerTrimOptions {
  /** At most one trim per this many milliseconds of publishing. Default 60,000. */
  intervalMs?: number;
}

/** Options of a StreamProducer. */
export interface StreamProducerOptions {
  /** Connection for XADD; shared freely, never closed by the producer. */
  redis: Redis;
  /** Stream key, e.g. STREAM_REPO_RUNS. */
  stream: string;
  /** Written into every entry's `producer` field, e.g. the service name. */
  producerName: string;
  /** Silent when absent. */
  logger?: Logger;
  /**
   * Off by default: an untrimmed stream loses nothing, and its growth is
   * visible and cheap to watch. When on, the producer removes only entries
   * that every group has acknowledged (never `MAXLEN`, which can drop
   * entries still pending).
   */
  trim?: ProducerTrimOptions;
}

/** Publishes contract events to one stream. */
export class StreamProducer {
  readonly stream: string;
  readonly producerName: string;
  readonly #redis: Redis;
  readonly #logger: Logger;
  readonly #trimIntervalMs: number | undefined;
  #lastTrimAt = 0;

  constructor(options: StreamProducerOptions) {
    this.#redis = options.redis;
    this.stream = options.stream;
    this.producerName = options.producerName;
    this.#logger = (options.logger ?? silentLogger()).child({
      stream: options.stream,
      producer: options.producerName,
    });
    this.#trimIntervalMs =
      options.trim === undefined ? undefined : (options.trim.intervalMs ?? 60_000);

    if (this.stream === '') throw new ConfigurationError('StreamProducer: `stream` is empty');
    if (this.producerName === '') {
      throw new ConfigurationError('StreamProducer: `producerName` is empty');
    }
    if (this.#trimIntervalMs !== undefined && !(this.#trimIntervalMs >= 0)) {
      throw new ConfigurationError('StreamProducer: `trim.intervalMs` must be 0 or more');
    }
  }

  /** Appends one event; resolves to its stream entry id. */
  async publish(message: Message): Promise<string> {
    const id = await this.#redis.xadd(this.stream, '*', ...this.#fields(message));
    this.#maybeTrim();
    return id as string;
  }

  /** Appends many events in one round trip (one pipeline); resolves to their ids, in order. */
  async publishMany(messages: readonly Message[]): Promise<string[]> {
    if (messages.length === 0) return [];
    const pipeline = this.#redis.pipeline();
    for (const message of messages) pipeline.xadd(this.stream, '*', ...this.#fields(message));
    const results = (await pipeline.exec()) ?? [];
    const ids: string[] = [];
    for (const [error, id] of results) {
      if (error) throw error;
      ids.push(id as string);
    }
    this.#maybeTrim();
    return ids;
  }

  #fields(message: Message): (string | Buffer)[] {
    const { typeName, payload } = encodeEvent(message);
    return encodeEntryFields(
      {
        typeName,
        eventId: randomUUID(),
        producer: this.producerName,
        publishedAt: new Date(),
        traceparent: activeTraceparent(),
      },
      payload,
    );
  }

  #maybeTrim(): void {
    if (this.#trimIntervalMs === undefined) return;
    const now = Date.now();
    if (now - this.#lastTrimAt < this.#trimIntervalMs) return;
    this.#lastTrimAt = now;
    // Trimming is housekeeping: a failure must not fail the publish.
    trimAcknowledged(this.#redis, this.stream).then(
      (result) => this.#logger.debug(result, 'stream trimmed'),
      (error: unknown) => this.#logger.warn({ err: logError(error) }, 'stream trim failed'),
    );
  }
}
