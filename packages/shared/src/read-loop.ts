import { setTimeout as sleep } from 'node:timers/promises';
import type { DescMessage } from '@bufbuild/protobuf';
import type { Redis } from 'ioredis';
import { sendBufferCommand } from './buffer-command.js';
import { type ConsumerContext, dispatchClaimed } from './consumer-context.js';
import { parseEntries } from './entry-fields.js';
import { claimEntries, createGroup, isNoGroupError, ownPendingPage } from './group-commands.js';
import { logError } from './log-error.js';
import { guardRead, readConnectionClosed, readTimedOut, waitForReady } from './read-guard.js';

const readWatchdogGraceMs = 2_000;

/**
 * The consumer's reading: a blocking connection of its own, this consumer's
 * pending entries first (after a start, a reconnect or a lost reply), then
 * new entries with XREADGROUP, and re-creating the group when Redis answers
 * NOGROUP.
 */
export class ReadLoop<S extends readonly DescMessage[]> {
  readonly #context: ConsumerContext<S>;
  #blocking: Redis | undefined;
  #blockingClientId: number | undefined;
  #loop: Promise<void> | undefined;
  #recoverOwnPending = true;
  #ownPendingCursor = '-';
  #lastSeenId: string | undefined;
  #recreating: Promise<void> | undefined;
  #readFailures = 0;

  constructor(context: ConsumerContext<S>) {
    this.#context = context;
  }

  /** The last entry id the group had delivered when the consumer started. */
  set lastSeenId(id: string | undefined) {
    this.#lastSeenId = id;
  }

  async connect(): Promise<void> {
    // ioredis re-sends unfulfilled commands after a reconnect. For
    // XREADGROUP that hides a dropped connection and may deliver entries
    // into a reply nobody awaits; with re-sending off, ioredis drops the
    // command without settling it, so the read loop races every read against
    // the connection's close event and a watchdog, and rescans its own
    // pending entries after any reconnect.
    const { at, logger } = this.#context;
    const blocking = at.redis.duplicate({
      autoResendUnfulfilledCommands: false,
      enableOfflineQueue: false,
      enableAutoPipelining: false,
      lazyConnect: true,
      connectionName: `${at.consumer}:read`,
    });
    this.#blocking = blocking;
    let readyBefore = false;
    blocking.on('error', (error: Error) =>
      logger.debug({ err: logError(error) }, 'read connection error'),
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

  start(): void {
    this.#loop = this.#run();
  }

  /**
   * Ends the read loop without abandoning a read: CLIENT UNBLOCK makes a
   * blocked XREADGROUP return at once as if it timed out, so any entries it
   * was given are still dispatched. A read sent just after an unblock would
   * block its full time, so the unblock repeats until the loop has ended.
   */
  async end(): Promise<void> {
    const loop = this.#loop;
    if (loop === undefined) return;
    let ended = false;
    void loop.finally(() => {
      ended = true;
    });
    const deadline = Date.now() + this.#context.options.blockMs + readWatchdogGraceMs;
    while (!ended && Date.now() < deadline) {
      const clientId = this.#blockingClientId;
      if (clientId !== undefined && this.#blocking?.status === 'ready') {
        await this.#context.at.redis.client('UNBLOCK', clientId).catch(() => 0);
      }
      await Promise.race([loop, sleep(25, undefined, { ref: false })]);
    }
  }

  /** Closes the blocking connection. */
  close(): void {
    this.#blocking?.disconnect();
  }

  /**
   * The stream or the group vanished. Re-creating at `0` on a stream that
   * survived would replay everything the group had acknowledged, so the group
   * is re-created after the last entry this consumer saw; on a stream that was
   * lost too, every entry written since has a larger id and is read.
   */
  recreateGroup(): Promise<void> {
    this.#recreating ??= (async () => {
      const { at, options, counters, logger } = this.#context;
      const fromId = this.#lastSeenId ?? options.startId;
      const created = await createGroup(at, fromId);
      this.#recoverOwnPending = true;
      if (created) {
        counters.groupsRecreated += 1;
        logger.warn({ fromId }, 'consumer group was missing and has been re-created');
      }
    })().finally(() => {
      this.#recreating = undefined;
    });
    return this.#recreating;
  }

  async #run(): Promise<void> {
    const { state, pool } = this.#context;
    while (state.running) {
      await pool.waitForCapacity();
      if (!state.running) break;
      try {
        if (this.#recoverOwnPending) await this.#readOwnPending();
        else await this.#readNew();
        this.#readFailures = 0;
      } catch (error) {
        if (!state.running) break;
        await this.#onReadError(error);
      }
    }
  }

  async #readNew(): Promise<void> {
    const { at, options, pool, logger, stopReading } = this.#context;
    const blocking = this.#blocking;
    if (blocking === undefined) return;
    if (blocking.status !== 'ready') {
      await waitForReady(blocking, stopReading, options.blockMs);
      return;
    }
    const count = pool.freeCapacity();
    const read = sendBufferCommand(blocking, 'XREADGROUP', [
      'GROUP',
      at.group,
      at.consumer,
      'COUNT',
      count,
      'BLOCK',
      options.blockMs,
      'STREAMS',
      at.stream,
      '>',
    ]);
    const reply = await guardRead(blocking, read, options.blockMs + readWatchdogGraceMs);
    if (reply === readTimedOut || reply === readConnectionClosed) {
      // The reply, if any comes, is lost to us: its entries are pending for
      // this consumer and the rescan of our own pending list picks them up.
      this.#recoverOwnPending = true;
      if (reply === readTimedOut && blocking.status === 'ready') blocking.disconnect(true);
      logger.debug({ reason: String(reply.description) }, 'blocking read abandoned');
      return;
    }
    if (reply === null) return;
    const streams = reply as unknown as [Buffer, unknown][];
    for (const [, entries] of streams) {
      for (const entry of parseEntries(entries)) {
        if (entry.fields === null) continue;
        this.#lastSeenId = entry.id;
        pool.dispatch({ id: entry.id, fields: entry.fields, attempt: 1 });
      }
    }
  }

  /**
   * Re-processes the entries pending for this consumer name (left by a
   * crash, a lost reply or a failure during stop), page by page, before any
   * new entry. Each is claimed again so Redis counts the delivery.
   */
  async #readOwnPending(): Promise<void> {
    const { at, pool, logger } = this.#context;
    const rows = await ownPendingPage(at, this.#ownPendingCursor, pool.freeCapacity());
    const last = rows[rows.length - 1];
    if (last === undefined) {
      this.#recoverOwnPending = false;
      this.#ownPendingCursor = '-';
      return;
    }
    this.#ownPendingCursor = `(${last.id}`;

    const counts = new Map<string, number>();
    for (const { id, deliveries } of rows) if (!pool.held.has(id)) counts.set(id, deliveries);
    if (counts.size === 0) return;

    const ids = [...counts.keys()];
    const entries = await claimEntries(at, ids);
    dispatchClaimed(this.#context, entries, ids, (id) => (counts.get(id) ?? 0) + 1);
    logger.debug({ entries: entries.length }, 'own pending entries recovered');
  }

  async #onReadError(error: unknown): Promise<void> {
    if (isNoGroupError(error)) {
      await this.recreateGroup().catch((recreateError: unknown) =>
        this.#onReadError(recreateError),
      );
      return;
    }
    this.#recoverOwnPending = true;
    this.#readFailures += 1;
    // One line per outage: a read that fails at once would otherwise log
    // (and spin) as fast as Redis answers.
    const { logger } = this.#context;
    if (this.#readFailures === 1) logger.warn({ err: logError(error) }, 'stream read failed');
    else logger.debug({ err: logError(error), failures: this.#readFailures }, 'stream read failed');
    const delayMs = Math.min(100 * 2 ** Math.min(this.#readFailures - 1, 6), 5_000);
    await sleep(delayMs, undefined, { signal: this.#context.stopReading }).catch(() => {});
  }
}
