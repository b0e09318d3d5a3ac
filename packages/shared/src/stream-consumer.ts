import { setTimeout as sleep } from 'node:timers/promises';
import type { DescMessage } from '@bufbuild/protobuf';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { AckBatcher } from './ack-batcher.js';
import { sendBufferCommand } from './buffer-command.js';
import { type ConsumerCounters, zeroCounters } from './consumer-counters.js';
import {
  assertTimeoutsFitBlock,
  type ResolvedConsumerOptions,
  resolveConsumerOptions,
  type StreamConsumerOptions,
} from './consumer-options.js';
import { buildDeadLetter, type DeadLetterReason, writeDeadLetter } from './dead-letter.js';
import { type Delivery, DeliveryRunner } from './delivery-runner.js';
import { parseEntries, type RawEntry } from './entry-fields.js';
import { failureLogKey, readFailure, recordFailure } from './failure-log.js';
import {
  autoClaim,
  claimEntries,
  createGroup,
  deliveryCounts,
  type GroupAddress,
  isNoGroupError,
  ownPendingPage,
  releaseEntries,
  removeIdleConsumers,
  touchPending,
} from './group-commands.js';
import { readGroups } from './group-info.js';
import { logError } from './log-error.js';
import { guardRead, readConnectionClosed, readTimedOut, waitForReady } from './read-guard.js';
import { readStreamLag, type StreamLag } from './stream-lag.js';

export type { ConsumerCounters } from './consumer-counters.js';

const readWatchdogGraceMs = 2_000;

/**
 * Reads one stream as a member of a consumer group and hands each entry of
 * the handled types to `handler`, with retries, dead letters, idle claiming,
 * recovery of its own pending entries, and graceful shutdown.
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
  readonly #failureLogKey: string;
  readonly #acks: AckBatcher;
  readonly #runner: DeliveryRunner<S>;
  #blocking: Redis | undefined;
  #blockingClientId: number | undefined;
  #state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';
  #stopPromise: Promise<void> | undefined;
  readonly #stopReading = new AbortController();
  readonly #abortHandlers = new AbortController();
  #readLoop: Promise<void> | undefined;
  #timers: NodeJS.Timeout[] = [];

  /** Ids this process holds: queued, in a handler, waiting to retry or to be acknowledged. */
  readonly #held = new Set<string>();
  #queue: Delivery[] = [];
  #active = 0;
  #capacityWaiter: (() => void) | undefined;
  #drainWaiter: (() => void) | undefined;

  #recoverOwnPending = true;
  #ownPendingCursor = '-';
  #claimCursor = '0-0';
  #claiming = false;
  #lastCleanupAt = 0;
  #lastSeenId: string | undefined;
  #recreating: Promise<void> | undefined;
  #readFailures = 0;

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
    this.#failureLogKey = failureLogKey(this.stream, this.group);
    this.#acks = new AckBatcher({
      redis: this.#redis,
      stream: this.stream,
      group: this.group,
      failureLogKey: this.#failureLogKey,
      logger: this.#logger,
      onSettled: (ids) => {
        for (const id of ids) this.#held.delete(id);
        this.#notifyCapacity();
      },
    });
    this.#runner = new DeliveryRunner({
      handles: this.#options.handles,
      handler: this.#options.handler,
      maxAttempts: this.#options.maxAttempts,
      logger: this.#logger,
      signal: this.#abortHandlers.signal,
    });
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
    return this.#held.size;
  }

  /**
   * Creates the group if needed (XGROUP CREATE ... MKSTREAM at `startId`),
   * connects the blocking connection and starts reading: first this
   * consumer's own pending entries, then new ones.
   */
  async start(): Promise<void> {
    if (this.#state !== 'new') throw new Error('StreamConsumer.start: already started');
    this.#state = 'starting';
    try {
      await this.#start();
    } catch (error) {
      // Nothing half-started is left behind: the read connection is closed.
      await this.stop({ timeoutMs: 0 });
      throw error;
    }
  }

  async #start(): Promise<void> {
    assertTimeoutsFitBlock(this.#redis, this.#options.blockMs);

    await createGroup(this.#at, this.#options.startId);
    const info = (await readGroups(this.#redis, this.stream)).find((g) => g.name === this.group);
    this.#lastSeenId = info?.lastDeliveredId;
    // Registers the name at once (Redis 6.2+), so the group lists this
    // consumer from the moment start() resolves.
    await this.#redis.xgroup('CREATECONSUMER', this.stream, this.group, this.consumerName);
    await this.#connectBlocking();
    if (this.#state !== 'starting') return;

    this.#state = 'running';
    this.#readLoop = this.#runReadLoop();
    this.#every(this.#options.claimIntervalMs, () => this.#claimIdle());
    this.#every(Math.max(10, Math.floor(this.#options.claimIdleMs / 3)), () => this.#touchHeld());
    this.#logger.info(
      { concurrency: this.#options.concurrency, maxAttempts: this.#options.maxAttempts },
      'consumer started',
    );
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

  async #stop(timeoutMs: number): Promise<void> {
    const wasRunning = this.#state === 'running' || this.#state === 'starting';
    this.#state = 'stopping';
    this.#stopReading.abort();
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
    this.#notifyCapacity();

    // Each step runs even when the one before failed.
    await this.#step('end read loop', () => this.#endReadLoop());
    await this.#step('release unstarted entries', () => this.#releaseQueued());
    await this.#step('drain handlers', () => this.#drain(timeoutMs));
    await this.#step('flush acknowledgements', () => this.#acks.flush());
    this.#acks.close();
    await this.#step('close blocking connection', async () => {
      this.#blocking?.disconnect();
    });
    this.#state = 'stopped';
    if (wasRunning) this.#logger.info({ counters: this.counters }, 'consumer stopped');
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

  async #connectBlocking(): Promise<void> {
    // ioredis re-sends unfulfilled commands after a reconnect. For
    // XREADGROUP that hides a dropped connection and may deliver entries
    // into a reply nobody awaits; with re-sending off, ioredis drops the
    // command without settling it, so the read loop races every read against
    // the connection's close event and a watchdog, and rescans its own
    // pending entries after any reconnect.
    const blocking = this.#redis.duplicate({
      autoResendUnfulfilledCommands: false,
      enableOfflineQueue: false,
      enableAutoPipelining: false,
      lazyConnect: true,
      connectionName: `${this.consumerName}:read`,
    });
    this.#blocking = blocking;
    let readyBefore = false;
    blocking.on('error', (error: Error) =>
      this.#logger.debug({ err: logError(error) }, 'read connection error'),
    );
    blocking.on('ready', () => {
      if (readyBefore) this.#recoverOwnPending = true;
      readyBefore = true;
      blocking.client('ID').then(
        (id) => {
          this.#blockingClientId = Number(id);
        },
        () => {
          this.#blockingClientId = undefined;
        },
      );
    });
    await blocking.connect();
    this.#blockingClientId = Number(await blocking.client('ID'));
  }

  async #runReadLoop(): Promise<void> {
    while (this.#state === 'running') {
      await this.#waitForCapacity();
      if (this.#state !== 'running') break;
      try {
        if (this.#recoverOwnPending) await this.#readOwnPending();
        else await this.#readNew();
        this.#readFailures = 0;
      } catch (error) {
        if (this.#state !== 'running') break;
        await this.#onReadError(error);
      }
    }
  }

  async #readNew(): Promise<void> {
    const blocking = this.#blocking;
    if (blocking === undefined) return;
    if (blocking.status !== 'ready') {
      await waitForReady(blocking, this.#stopReading.signal, this.#options.blockMs);
      return;
    }
    const count = this.#freeCapacity();
    const read = sendBufferCommand(blocking, 'XREADGROUP', [
      'GROUP',
      this.group,
      this.consumerName,
      'COUNT',
      count,
      'BLOCK',
      this.#options.blockMs,
      'STREAMS',
      this.stream,
      '>',
    ]);
    const reply = await guardRead(blocking, read, this.#options.blockMs + readWatchdogGraceMs);
    if (reply === readTimedOut || reply === readConnectionClosed) {
      // The reply, if any comes, is lost to us: its entries are pending for
      // this consumer and the rescan of our own pending list picks them up.
      this.#recoverOwnPending = true;
      if (reply === readTimedOut && blocking.status === 'ready') blocking.disconnect(true);
      this.#logger.debug({ reason: String(reply.description) }, 'blocking read abandoned');
      return;
    }
    if (reply === null) return;
    const streams = reply as unknown as [Buffer, unknown][];
    for (const [, entries] of streams) {
      for (const entry of parseEntries(entries)) {
        if (entry.fields === null) continue;
        this.#lastSeenId = entry.id;
        this.#dispatch({ id: entry.id, fields: entry.fields, attempt: 1 });
      }
    }
  }

  /**
   * Re-processes the entries pending for this consumer name (left by a
   * crash, a lost reply or a failure during stop), page by page, before any
   * new entry. Each is claimed again so Redis counts the delivery.
   */
  async #readOwnPending(): Promise<void> {
    const rows = await ownPendingPage(this.#at, this.#ownPendingCursor, this.#freeCapacity());
    const last = rows[rows.length - 1];
    if (last === undefined) {
      this.#recoverOwnPending = false;
      this.#ownPendingCursor = '-';
      return;
    }
    this.#ownPendingCursor = `(${last.id}`;

    const counts = new Map<string, number>();
    for (const { id, deliveries } of rows) if (!this.#held.has(id)) counts.set(id, deliveries);
    if (counts.size === 0) return;

    const ids = [...counts.keys()];
    const entries = await claimEntries(this.#at, ids);
    this.#dispatchClaimed(entries, ids, (id) => (counts.get(id) ?? 0) + 1);
    this.#logger.debug({ entries: entries.length }, 'own pending entries recovered');
  }

  /**
   * Dispatches claimed entries; ids asked for but not returned (Redis 7
   * drops deleted entries from the pending list) or returned without fields
   * (Redis 6.2) were deleted from the stream while pending.
   */
  #dispatchClaimed(entries: RawEntry[], asked: string[], attemptOf: (id: string) => number): void {
    const returned = new Set<string>();
    const deleted: string[] = [];
    for (const entry of entries) {
      returned.add(entry.id);
      if (entry.fields === null) {
        deleted.push(entry.id);
        continue;
      }
      this.#dispatch({ id: entry.id, fields: entry.fields, attempt: attemptOf(entry.id) });
    }
    for (const id of asked) if (!returned.has(id)) deleted.push(id);
    this.#cleanDeleted(deleted);
  }

  #cleanDeleted(ids: string[]): void {
    if (ids.length === 0) return;
    this.counters.deletedWhilePending += ids.length;
    this.#logger.warn({ entries: ids.length }, 'pending entries deleted from the stream');
    for (const id of ids) {
      // On Redis 6.2 they are still pending; on 7 XACK is a harmless no-op.
      this.#held.add(id);
      this.#acks.add(id, true);
    }
  }

  async #onReadError(error: unknown): Promise<void> {
    if (isNoGroupError(error)) {
      await this.#recreateGroup().catch((recreateError: unknown) =>
        this.#onReadError(recreateError),
      );
      return;
    }
    this.#recoverOwnPending = true;
    this.#readFailures += 1;
    // One line per outage: a read that fails at once would otherwise log
    // (and spin) as fast as Redis answers.
    if (this.#readFailures === 1) this.#logger.warn({ err: logError(error) }, 'stream read failed');
    else
      this.#logger.debug(
        { err: logError(error), failures: this.#readFailures },
        'stream read failed',
      );
    const delayMs = Math.min(100 * 2 ** Math.min(this.#readFailures - 1, 6), 5_000);
    await sleep(delayMs, undefined, { signal: this.#stopReading.signal }).catch(() => {});
  }

  /**
   * The stream or the group vanished. Re-creating at `0` on a stream that
   * survived would replay everything the group had acknowledged, so the group
   * is re-created after the last entry this consumer saw; on a stream that was
   * lost too, every entry written since has a larger id and is read.
   */
  #recreateGroup(): Promise<void> {
    this.#recreating ??= (async () => {
      const fromId = this.#lastSeenId ?? this.#options.startId;
      const created = await createGroup(this.#at, fromId);
      this.#recoverOwnPending = true;
      if (created) {
        this.counters.groupsRecreated += 1;
        this.#logger.warn({ fromId }, 'consumer group was missing and has been re-created');
      }
    })().finally(() => {
      this.#recreating = undefined;
    });
    return this.#recreating;
  }

  /** XAUTOCLAIMs entries idle longer than claimIdleMs from other consumers. */
  async #claimIdle(): Promise<void> {
    if (this.#state !== 'running' || this.#claiming) return;
    const free = this.#freeCapacity();
    if (free <= 0) return;
    this.#claiming = true;
    try {
      const claim = await autoClaim(this.#at, this.#options.claimIdleMs, this.#claimCursor, free);
      this.#claimCursor = claim.cursor;
      this.#cleanDeleted(claim.deletedIds);

      const entries = claim.entries.filter((entry) => !this.#held.has(entry.id));
      if (entries.length > 0) {
        const ids = entries.map((entry) => entry.id);
        const counts = await deliveryCounts(this.#at, ids, this.#held.size);
        const live = entries.filter((entry) => entry.fields !== null).length;
        this.counters.claimed += live;
        this.#logger.warn({ entries: live }, 'claimed idle entries from other consumers');
        this.#dispatchClaimed(entries, ids, (id) => counts.get(id) ?? 1);
      }
      await this.#removeIdleConsumers();
    } catch (error) {
      if (isNoGroupError(error)) await this.#recreateGroup();
      else throw error;
    } finally {
      this.#claiming = false;
    }
  }

  async #removeIdleConsumers(): Promise<void> {
    const now = Date.now();
    const threshold = this.#options.removeIdleConsumersAfterMs;
    if (now - this.#lastCleanupAt < Math.min(60_000, threshold)) return;
    this.#lastCleanupAt = now;
    for (const removed of await removeIdleConsumers(this.#at, threshold)) {
      this.#logger.info({ removed }, 'idle consumer removed');
    }
  }

  /** Keeps the entries this consumer holds from looking idle to other consumers. */
  async #touchHeld(): Promise<void> {
    if (this.#state !== 'running' || this.#held.size === 0) return;
    await touchPending(this.#at, this.#held);
  }

  #onBackgroundError(error: unknown): void {
    if (this.#state !== 'running') return;
    this.#logger.warn({ err: logError(error) }, 'consumer background task failed');
  }

  #freeCapacity(): number {
    const limit = this.#options.concurrency + this.#options.prefetch;
    return Math.max(0, limit - this.#active - this.#queue.length);
  }

  /**
   * Reading resumes when a handler slot is free and nothing is queued, or
   * when half the read-ahead room is free: with work still queued, waiting
   * for room turns many one-entry reads into a few large ones.
   */
  #canRead(): boolean {
    const free = this.#freeCapacity();
    if (free === 0) return false;
    if (this.#queue.length === 0) return true;
    return free * 2 >= this.#options.concurrency + this.#options.prefetch;
  }

  #waitForCapacity(): Promise<void> {
    if (this.#canRead() || this.#state !== 'running') return Promise.resolve();
    return new Promise((resolve) => {
      this.#capacityWaiter = resolve;
    });
  }

  #notifyCapacity(): void {
    const waiter = this.#capacityWaiter;
    if (waiter !== undefined && (this.#canRead() || this.#state !== 'running')) {
      this.#capacityWaiter = undefined;
      waiter();
    }
    if (this.#active === 0 && this.#queue.length === 0) this.#drainWaiter?.();
  }

  #dispatch(delivery: Delivery): void {
    this.#held.add(delivery.id);
    this.#queue.push(delivery);
    this.#pump();
  }

  #pump(): void {
    while (this.#active < this.#options.concurrency && this.#queue.length > 0) {
      if (this.#state === 'stopping' || this.#state === 'stopped') return;
      const delivery = this.#queue.shift();
      if (delivery === undefined) return;
      this.#active += 1;
      void this.#runSlot(delivery);
    }
  }

  async #runSlot(delivery: Delivery): Promise<void> {
    try {
      await this.#process(delivery);
    } catch (error) {
      // Whatever failed, the entry stays pending and comes back.
      this.#held.delete(delivery.id);
      this.#logger.warn({ err: logError(error), entryId: delivery.id }, 'entry processing failed');
    } finally {
      this.#active -= 1;
      this.#pump();
      this.#notifyCapacity();
    }
  }

  /** Runs one entry through attempts until it is acknowledged, dead-lettered or left pending. */
  async #process(first: Delivery): Promise<void> {
    let delivery = first;
    for (;;) {
      const outcome = await this.#runner.run(delivery);
      if (outcome.kind === 'ack' || outcome.kind === 'skip') {
        if (outcome.kind === 'ack') this.counters.handled += 1;
        else this.counters.skipped += 1;
        this.#acks.add(delivery.id, delivery.attempt > 1);
        return;
      }
      if (outcome.kind === 'dead-letter') {
        await this.#deadLetter(delivery, outcome.reason, outcome.error);
        return;
      }

      // A failed attempt: recorded in Redis so the dead letter knows it even
      // if this process dies before the next attempt.
      const failedAt = new Date();
      await recordFailure(this.#redis, this.#failureLogKey, delivery.id, outcome.error, failedAt);
      if (delivery.attempt >= this.#options.maxAttempts) {
        await this.#deadLetter(delivery, 'max-attempts', outcome.error);
        return;
      }
      this.counters.retried += 1;
      if (this.#state !== 'running') {
        // Left pending with its delivery count: retried after a restart.
        this.#held.delete(delivery.id);
        return;
      }
      const next = await this.#redeliverAfterBackoff(delivery);
      if (next === undefined) return;
      delivery = next;
    }
  }

  async #redeliverAfterBackoff(delivery: Delivery): Promise<Delivery | undefined> {
    const delayMs = this.#options.retryBackoff(delivery.attempt);
    try {
      await sleep(delayMs, undefined, { signal: this.#stopReading.signal });
    } catch {
      this.#held.delete(delivery.id);
      return undefined;
    }
    // XCLAIM counts the new delivery, so the attempt number lives in Redis.
    const [entry] = await claimEntries(this.#at, [delivery.id]);
    if (entry === undefined || entry.fields === null) {
      this.#cleanDeleted([delivery.id]);
      return undefined;
    }
    return { id: delivery.id, fields: entry.fields, attempt: delivery.attempt + 1 };
  }

  async #deadLetter(delivery: Delivery, reason: DeadLetterReason, error: string): Promise<void> {
    try {
      const failure = await readFailure(this.#redis, this.#failureLogKey, delivery.id);
      const letter = buildDeadLetter({
        stream: this.stream,
        group: this.group,
        consumer: this.consumerName,
        entryId: delivery.id,
        fields: delivery.fields,
        // An entry past its budget was delivered once more only to be dead-lettered.
        attempts:
          reason === 'max-attempts'
            ? Math.min(delivery.attempt, this.#options.maxAttempts)
            : delivery.attempt,
        reason,
        error,
        failure,
      });
      const written = await writeDeadLetter(
        this.#redis,
        this.#options.deadLetterList,
        this.#failureLogKey,
        letter,
      );
      if (!written) return;
      this.counters.deadLettered += 1;
      this.#logger.warn(
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
      this.#held.delete(delivery.id);
    }
  }

  /**
   * Ends the read loop without abandoning a read: CLIENT UNBLOCK makes a
   * blocked XREADGROUP return at once as if it timed out, so any entries it
   * was given are still dispatched. A read sent just after an unblock would
   * block its full time, so the unblock repeats until the loop has ended.
   */
  async #endReadLoop(): Promise<void> {
    const loop = this.#readLoop;
    if (loop === undefined) return;
    let ended = false;
    void loop.finally(() => {
      ended = true;
    });
    const deadline = Date.now() + this.#options.blockMs + readWatchdogGraceMs;
    while (!ended && Date.now() < deadline) {
      const clientId = this.#blockingClientId;
      if (clientId !== undefined && this.#blocking?.status === 'ready') {
        await this.#redis.client('UNBLOCK', clientId).catch(() => 0);
      }
      await Promise.race([loop, sleep(25, undefined, { ref: false })]);
    }
  }

  /** Hands read-ahead entries back to the group as if never delivered. */
  async #releaseQueued(): Promise<void> {
    const queued = this.#queue;
    this.#queue = [];
    try {
      await releaseEntries(this.#at, queued, this.#options.claimIdleMs);
    } finally {
      for (const delivery of queued) this.#held.delete(delivery.id);
    }
  }

  async #drain(timeoutMs: number): Promise<void> {
    if (this.#active === 0) return;
    const drained = new Promise<void>((resolve) => {
      this.#drainWaiter = resolve;
    });
    const finished = await Promise.race([
      drained.then(() => true),
      sleep(timeoutMs, false, { ref: false }),
    ]);
    this.#drainWaiter = undefined;
    if (!finished) {
      this.#logger.warn({ handlers: this.#active }, 'stop timed out with handlers in flight');
      this.#abortHandlers.abort();
    }
  }
}
