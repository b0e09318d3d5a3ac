import type { DescMessage } from '@bufbuild/protobuf';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { AckBatcher } from './ack-batcher.js';
import type { ConsumerContext } from './consumer-context.js';
import { type ConsumerCounters, zeroCounters } from './consumer-counters.js';
import {
  assertTimeoutsFitBlock,
  type ResolvedConsumerOptions,
  resolveConsumerOptions,
  type StreamConsumerOptions,
} from './consumer-options.js';
import { ConsumerState } from './consumer-state.js';
import { DeliveryRunner } from './delivery-runner.js';
import { DispatchPool } from './dispatch-pool.js';
import { EntryProcessor } from './entry-processor.js';
import { failureLogKey } from './failure-log.js';
import {
  createGroup,
  type GroupAddress,
  leaveGroupIfIdle,
  releaseEntries,
} from './group-commands.js';
import { readGroups } from './group-info.js';
import { IdleClaimer } from './idle-claimer.js';
import { logError } from './log-error.js';
import { ReadLoop } from './read-loop.js';
import { readStreamLag, type StreamLag } from './stream-lag.js';

export type { ConsumerCounters } from './consumer-counters.js';

/**
 * Reads one stream as a member of a consumer group and hands each entry of
 * the handled types to `handler`, with retries, dead letters, idle claiming,
 * recovery of its own pending entries, and graceful shutdown.
 *
 * This class is the lifecycle: it builds the parts (ReadLoop, IdleClaimer,
 * DispatchPool, EntryProcessor) and starts and stops them in order.
 */
export class StreamConsumer<S extends readonly DescMessage[]> {
  readonly consumerName: string;
  readonly stream: string;
  readonly group: string;
  readonly counters: ConsumerCounters = zeroCounters();

  readonly #options: ResolvedConsumerOptions<S>;
  readonly #redis: Redis;
  readonly #at: GroupAddress;
  readonly #logger: Logger;
  readonly #state = new ConsumerState();
  readonly #stopReading = new AbortController();
  readonly #abortHandlers = new AbortController();
  readonly #acks: AckBatcher;
  readonly #pool: DispatchPool;
  readonly #processor: EntryProcessor<S>;
  readonly #reader: ReadLoop<S>;
  readonly #claimer: IdleClaimer<S>;
  #stopPromise: Promise<void> | undefined;
  #timers: NodeJS.Timeout[] = [];

  constructor(options: StreamConsumerOptions<S>) {
    this.#options = resolveConsumerOptions(options);
    this.#redis = this.#options.redis;
    this.consumerName = this.#options.consumerName;
    this.stream = this.#options.stream;
    this.group = this.#options.group;
    this.#at = {
      redis: this.#redis,
      stream: this.stream,
      group: this.group,
      consumer: this.consumerName,
    };
    this.#logger = this.#options.logger.child({
      stream: this.stream,
      group: this.group,
      consumer: this.consumerName,
    });
    const logKey = failureLogKey(this.stream, this.group);
    this.#acks = new AckBatcher({
      redis: this.#redis,
      stream: this.stream,
      group: this.group,
      failureLogKey: logKey,
      logger: this.#logger,
      onSettled: (ids) => this.#pool.settle(ids),
    });
    const runner = new DeliveryRunner({
      handles: this.#options.handles,
      handler: this.#options.handler,
      maxAttempts: this.#options.maxAttempts,
      logger: this.#logger,
      signal: this.#abortHandlers.signal,
    });
    this.#pool = new DispatchPool({
      concurrency: this.#options.concurrency,
      prefetch: this.#options.prefetch,
      state: this.#state,
      logger: this.#logger,
      // The processor is built below, with the context that holds the pool.
      process: (delivery) => this.#processor.process(delivery),
    });
    const context: ConsumerContext<S> = {
      options: this.#options,
      at: this.#at,
      logger: this.#logger,
      counters: this.counters,
      state: this.#state,
      pool: this.#pool,
      acks: this.#acks,
      failureLogKey: logKey,
      stopReading: this.#stopReading.signal,
    };
    this.#processor = new EntryProcessor(context, runner);
    this.#reader = new ReadLoop(context);
    this.#claimer = new IdleClaimer(context, () => this.#reader.recreateGroup());
  }

  /** Same as counters.handled. */
  get handled(): number {
    return this.counters.handled;
  }

  /** Same as counters.skipped. */
  get skipped(): number {
    return this.counters.skipped;
  }

  /** Same as counters.retried. */
  get retried(): number {
    return this.counters.retried;
  }

  /** Same as counters.deadLettered. */
  get deadLettered(): number {
    return this.counters.deadLettered;
  }

  /** Same as counters.deletedWhilePending. */
  get deletedWhilePending(): number {
    return this.counters.deletedWhilePending;
  }

  /** Same as counters.claimed. */
  get claimed(): number {
    return this.counters.claimed;
  }

  /** Entries held in memory by this consumer right now. */
  get inFlight(): number {
    return this.#pool.held.size;
  }

  /**
   * Creates the group if needed (XGROUP CREATE ... MKSTREAM at `startId`),
   * connects the blocking connection and starts reading: first this
   * consumer's own pending entries, then new ones.
   */
  async start(): Promise<void> {
    if (this.#state.phase !== 'new') throw new Error('StreamConsumer.start: already started');
    this.#state.phase = 'starting';
    try {
      await this.#start();
    } catch (error) {
      // Nothing half-started is left behind: the read connection is closed.
      await this.stop({ timeoutMs: 0 });
      throw error;
    }
  }

  /**
   * Stops reading, waits up to `timeoutMs` (default stopTimeoutMs) for the
   * handlers in flight, acknowledges what finished and closes the blocking
   * connection. Entries read ahead but not started are handed back to the
   * group with their delivery count restored. Safe to call twice: the second
   * call waits on the first. The `redis` connection given is left open.
   */
  stop(options: { timeoutMs?: number } = {}): Promise<void> {
    this.#stopPromise ??= this.#stop(options.timeoutMs ?? this.#options.stopTimeoutMs);
    return this.#stopPromise;
  }

  /** The group's backlog; see StreamLag for what each number counts. */
  getLag(): Promise<StreamLag> {
    return readStreamLag(this.#redis, this.stream, this.group);
  }

  async #start(): Promise<void> {
    assertTimeoutsFitBlock(this.#redis, this.#options.blockMs);

    await createGroup(this.#at, this.#options.startId);
    const info = (await readGroups(this.#redis, this.stream)).find((g) => g.name === this.group);
    this.#reader.lastSeenId = info?.lastDeliveredId;
    // Registers the name at once (Redis 6.2+), so the group lists this
    // consumer from the moment start() resolves.
    await this.#redis.xgroup('CREATECONSUMER', this.stream, this.group, this.consumerName);
    await this.#reader.connect();
    if (this.#state.phase !== 'starting') return;

    this.#state.phase = 'running';
    this.#reader.start();
    this.#every(this.#options.claimIntervalMs, () => this.#claimer.claimIdle());
    this.#every(Math.max(10, Math.floor(this.#options.claimIdleMs / 3)), () =>
      this.#claimer.touchHeld(),
    );
    this.#logger.info(
      { concurrency: this.#options.concurrency, maxAttempts: this.#options.maxAttempts },
      'consumer started',
    );
  }

  async #stop(timeoutMs: number): Promise<void> {
    const wasRunning = this.#state.phase === 'running' || this.#state.phase === 'starting';
    this.#state.phase = 'stopping';
    this.#stopReading.abort();
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
    this.#pool.notifyCapacity();

    // Each step runs even when the one before failed.
    await this.#step('end read loop', () => this.#reader.end());
    await this.#step('finish idle claim', () => this.#claimer.settled());
    await this.#step('release unstarted entries', () => this.#releaseQueued());
    await this.#step('drain handlers', () => this.#drain(timeoutMs));
    await this.#step('flush acknowledgements', () => this.#acks.flush());
    this.#acks.close();
    if (wasRunning) await this.#step('leave the group', () => this.#leaveGroup());
    await this.#step('close blocking connection', async () => {
      this.#reader.close();
    });
    this.#state.phase = 'stopped';
    if (wasRunning) this.#logger.info({ counters: this.counters }, 'consumer stopped');
  }

  async #leaveGroup(): Promise<void> {
    // `left` is false when entries are still pending: the consumer stays so
    // another one can claim them from it.
    const left = await leaveGroupIfIdle(this.#at);
    this.#logger.debug({ left }, 'consumer group membership settled');
  }

  async #step(name: string, action: () => Promise<void>): Promise<void> {
    try {
      await action();
    } catch (error) {
      this.#logger.warn({ err: logError(error), step: name }, 'consumer stop step failed');
    }
  }

  #every(intervalMs: number, tick: () => Promise<void>): void {
    const timer = setInterval(() => {
      tick().catch((error: unknown) => this.#onBackgroundError(error));
    }, intervalMs);
    timer.unref();
    this.#timers.push(timer);
  }

  #onBackgroundError(error: unknown): void {
    if (!this.#state.running) return;
    this.#logger.warn({ err: logError(error) }, 'consumer background task failed');
  }

  /** Hands read-ahead entries back to the group as if never delivered. */
  async #releaseQueued(): Promise<void> {
    const queued = this.#pool.takeQueued();
    try {
      await releaseEntries(this.#at, queued, this.#options.claimIdleMs);
    } finally {
      for (const delivery of queued) this.#pool.held.delete(delivery.id);
    }
  }

  async #drain(timeoutMs: number): Promise<void> {
    const finished = await this.#pool.drain(timeoutMs);
    if (!finished) {
      this.#logger.warn({ handlers: this.#pool.active }, 'stop timed out with handlers in flight');
      this.#abortHandlers.abort();
    }
  }
}
