/** Where a StreamConsumer is in its life; every part of it reads the same one. */
export type ConsumerPhase = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

/**
 * The phase shared by the consumer's parts: the read loop, the dispatch pool
 * and the entry processor each check it to stop work once `stop()` begins.
 */
export class ConsumerState {
  phase: ConsumerPhase = 'new';

  get running(): boolean {
    return this.phase === 'running';
  }

  /** True from the moment `stop()` begins. */
  get stopping(): boolean {
    return this.phase === 'stopping' || this.phase === 'stopped';
  }
}
