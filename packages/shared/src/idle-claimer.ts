import type { DescMessage } from '@bufbuild/protobuf';
import { type ConsumerContext, cleanDeleted, dispatchClaimed } from './consumer-context.js';
import {
  autoClaim,
  deliveryCounts,
  isNoGroupError,
  removeIdleConsumers,
  touchPending,
} from './group-commands.js';

/**
 * The consumer's background work on the group: claiming entries other
 * consumers left idle, keeping its own held entries from looking idle, and
 * removing consumers long gone with nothing pending.
 */
export class IdleClaimer<S extends readonly DescMessage[]> {
  readonly #context: ConsumerContext<S>;
  readonly #recreateGroup: () => Promise<void>;
  #claimCursor = '0-0';
  #claiming: Promise<void> | undefined;
  #lastCleanupAt = 0;

  constructor(context: ConsumerContext<S>, recreateGroup: () => Promise<void>) {
    this.#context = context;
    this.#recreateGroup = recreateGroup;
  }

  /** XAUTOCLAIMs entries idle longer than claimIdleMs from other consumers. */
  claimIdle(): Promise<void> {
    if (!this.#context.state.running || this.#claiming !== undefined) return Promise.resolve();
    this.#claiming = this.#claim().finally(() => {
      this.#claiming = undefined;
    });
    return this.#claiming;
  }

  /**
   * Resolves once the claim in flight, if any, has dispatched what it took.
   * stop() waits for it before handing queued entries back: an entry
   * dispatched after that would stay queued, its delivery counted but never
   * handled, and stop() would wait its whole timeout for an empty queue.
   */
  async settled(): Promise<void> {
    await this.#claiming?.catch(() => {});
  }

  async #claim(): Promise<void> {
    const { pool, at, options, counters, logger } = this.#context;
    const free = pool.freeCapacity();
    if (free <= 0) return;
    try {
      const claim = await autoClaim(at, options.claimIdleMs, this.#claimCursor, free);
      this.#claimCursor = claim.cursor;
      cleanDeleted(this.#context, claim.deletedIds);

      const entries = claim.entries.filter((entry) => !pool.held.has(entry.id));
      if (entries.length > 0) {
        const ids = entries.map((entry) => entry.id);
        const counts = await deliveryCounts(at, ids, pool.held.size);
        const live = entries.filter((entry) => entry.fields !== null).length;
        counters.claimed += live;
        logger.warn({ entries: live }, 'claimed idle entries from other consumers');
        dispatchClaimed(this.#context, entries, ids, (id) => counts.get(id) ?? 1);
      }
      await this.#removeIdleConsumers();
    } catch (error) {
      if (isNoGroupError(error)) await this.#recreateGroup();
      else throw error;
    }
  }

  /** Keeps the entries this consumer holds from looking idle to other consumers. */
  async touchHeld(): Promise<void> {
    const { state, pool, at } = this.#context;
    if (!state.running || pool.held.size === 0) return;
    await touchPending(at, pool.held);
  }

  async #removeIdleConsumers(): Promise<void> {
    const now = Date.now();
    const threshold = this.#context.options.removeIdleConsumersAfterMs;
    if (now - this.#lastCleanupAt < Math.min(60_000, threshold)) return;
    this.#lastCleanupAt = now;
    for (const removed of await removeIdleConsumers(this.#context.at, threshold)) {
      this.#context.logger.info({ removed }, 'idle consumer removed');
    }
  }
}
