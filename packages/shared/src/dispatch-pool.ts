import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { ConsumerState } from './consumer-state.js';
import type { Delivery } from './delivery-runner.js';
import { logError } from './log-error.js';

/**
 * The consumer's handler slots and read-ahead queue: at most `concurrency`
 * entries in handlers and `prefetch` more waiting. The read loop asks it how
 * many entries it may read, which is the consumer's backpressure.
 */
export class DispatchPool {
  /** Ids this process holds: queued, in a handler, waiting to retry or to be acknowledged. */
  readonly held = new Set<string>();
  readonly #concurrency: number;
  readonly #limit: number;
  readonly #state: ConsumerState;
  readonly #logger: Logger;
  readonly #process: (delivery: Delivery) => Promise<void>;
  #queue: Delivery[] = [];
  #active = 0;
  #capacityWaiter: (() => void) | undefined;
  #drainWaiter: (() => void) | undefined;

  constructor(options: {
    concurrency: number;
    prefetch: number;
    state: ConsumerState;
    logger: Logger;
    process: (delivery: Delivery) => Promise<void>;
  }) {
    this.#concurrency = options.concurrency;
    this.#limit = options.concurrency + options.prefetch;
    this.#state = options.state;
    this.#logger = options.logger;
    this.#process = options.process;
  }

  /** Handlers running right now. */
  get active(): number {
    return this.#active;
  }

  /** Entries the read loop may take now without passing the limit. */
  freeCapacity(): number {
    return Math.max(0, this.#limit - this.#active - this.#queue.length);
  }

  /** Resolves when reading may resume, or at once once the consumer stops running. */
  waitForCapacity(): Promise<void> {
    if (this.#canRead() || !this.#state.running) return Promise.resolve();
    return new Promise((resolve) => {
      this.#capacityWaiter = resolve;
    });
  }

  /** Wakes the read loop and `drain()` when what they wait for has happened. */
  notifyCapacity(): void {
    const waiter = this.#capacityWaiter;
    if (waiter !== undefined && (this.#canRead() || !this.#state.running)) {
      this.#capacityWaiter = undefined;
      waiter();
    }
    if (this.#active === 0 && this.#queue.length === 0) this.#drainWaiter?.();
  }

  /**
   * Holds the entry and starts it as soon as a handler slot is free. An entry
   * already held is ignored: the rescan of this consumer's pending list and
   * the idle claimer can both claim one entry while the other awaits Redis,
   * and each would otherwise start a handler for it.
   */
  dispatch(delivery: Delivery): void {
    if (this.held.has(delivery.id)) return;
    this.held.add(delivery.id);
    this.#queue.push(delivery);
    this.#pump();
  }

  /** Called when Redis took the XACK of `ids`: they free their room. */
  settle(ids: string[]): void {
    for (const id of ids) this.held.delete(id);
    this.notifyCapacity();
  }

  /** Empties the read-ahead queue and returns what no handler started. */
  takeQueued(): Delivery[] {
    const queued = this.#queue;
    this.#queue = [];
    return queued;
  }

  /** Waits up to `timeoutMs` for the running handlers; false when some are still running. */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.#active === 0) return true;
    const drained = new Promise<void>((resolve) => {
      this.#drainWaiter = resolve;
    });
    const finished = await Promise.race([
      drained.then(() => true),
      sleep(timeoutMs, false, { ref: false }),
    ]);
    this.#drainWaiter = undefined;
    return finished;
  }

  /**
   * Reading resumes when a handler slot is free and nothing is queued, or
   * when half the read-ahead room is free: with work still queued, waiting
   * for room turns many one-entry reads into a few large ones.
   */
  #canRead(): boolean {
    const free = this.freeCapacity();
    if (free === 0) return false;
    if (this.#queue.length === 0) return true;
    return free * 2 >= this.#limit;
  }

  #pump(): void {
    while (this.#active < this.#concurrency && this.#queue.length > 0) {
      if (this.#state.stopping) return;
      const delivery = this.#queue.shift();
      if (delivery === undefined) return;
      this.#active += 1;
      this.#runSlot(delivery);
    }
  }

  /**
   * Not an async function: this runs once per entry, and two callbacks
   * allocate less than an async frame.
   */
  #runSlot(delivery: Delivery): void {
    this.#process(delivery).then(this.#slotDone, (error: unknown) => {
      // Whatever failed, the entry stays pending and comes back.
      this.held.delete(delivery.id);
      this.#logger.warn({ err: logError(error), entryId: delivery.id }, 'entry processing failed');
      this.#slotDone();
    });
  }

  readonly #slotDone = (): void => {
    this.#active -= 1;
    this.#pump();
    this.notifyCapacity();
  };
}
