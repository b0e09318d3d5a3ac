import type { Message } from '@bufbuild/protobuf';
import type { Logger } from '@reporunner/service-kit';
import { toLifecycleRecord } from './lifecycle-event.js';
import type { RunStore } from './run-store.js';

/**
 * The consumer handler of both streams: records the event in its run. A
 * duplicate is acknowledged like any other; the store ignores it.
 */
export async function recordLifecycle(
  store: RunStore,
  event: Message,
  logger: Logger,
): Promise<boolean> {
  const record = toLifecycleRecord(event);
  if (record === undefined) return true;
  const log = logger.child({ runId: record.runId });
  const fresh = await store.record(record);
  log.info({ event: record.event, duplicate: !fresh }, 'lifecycle event recorded');
  return true;
}
