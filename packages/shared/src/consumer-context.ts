import type { DescMessage } from '@bufbuild/protobuf';
import type { Logger } from 'pino';
import type { AckBatcher } from './ack-batcher.js';
import type { ConsumerCounters } from './consumer-counters.js';
import type { ResolvedConsumerOptions } from './consumer-options.js';
import type { ConsumerState } from './consumer-state.js';
import type { DispatchPool } from './dispatch-pool.js';
import type { RawEntry } from './entry-fields.js';
import type { GroupAddress } from './group-commands.js';

/** What the parts of one StreamConsumer share: built once by its constructor. */
export interface ConsumerContext<S extends readonly DescMessage[]> {
  readonly options: ResolvedConsumerOptions<S>;
  readonly at: GroupAddress;
  /** Bound to stream, group and consumer. */
  readonly logger: Logger;
  readonly counters: ConsumerCounters;
  readonly state: ConsumerState;
  readonly pool: DispatchPool;
  readonly acks: AckBatcher;
  readonly failureLogKey: string;
  /** Aborted when `stop()` begins: ends reads, backoffs and retry waits. */
  readonly stopReading: AbortSignal;
}

/**
 * Dispatches claimed entries; ids asked for but not returned (Redis 7
 * drops deleted entries from the pending list) or returned without fields
 * (Redis 6.2) were deleted from the stream while pending.
 */
export function dispatchClaimed<S extends readonly DescMessage[]>(
  context: ConsumerContext<S>,
  entries: RawEntry[],
  asked: string[],
  attemptOf: (id: string) => number,
): void {
  const returned = new Set<string>();
  const deleted: string[] = [];
  for (const entry of entries) {
    returned.add(entry.id);
    if (entry.fields === null) {
      deleted.push(entry.id);
      continue;
    }
    context.pool.dispatch({ id: entry.id, fields: entry.fields, attempt: attemptOf(entry.id) });
  }
  for (const id of asked) if (!returned.has(id)) deleted.push(id);
  cleanDeleted(context, deleted);
}

/** Counts and acknowledges pending entries that were deleted from the stream. */
export function cleanDeleted<S extends readonly DescMessage[]>(
  context: ConsumerContext<S>,
  ids: string[],
): void {
  if (ids.length === 0) return;
  context.counters.deletedWhilePending += ids.length;
  context.logger.warn({ entries: ids.length }, 'pending entries deleted from the stream');
  for (const id of ids) {
    // On Redis 6.2 they are still pending; on 7 XACK is a harmless no-op.
    context.pool.held.add(id);
    context.acks.add(id, true);
  }
}
