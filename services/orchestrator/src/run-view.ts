import {
  LIFECYCLE_EVENTS,
  type LifecycleEventName,
  type LifecycleRecord,
} from './lifecycle-event.js';

/** Where a run is. `succeeded` and `failed` are final. */
export type RunStatus = 'requested' | 'building' | 'built' | 'running' | 'succeeded' | 'failed';

/** A run as GET /runs/:runId answers it. Times are ISO 8601 strings. */
export interface RunView {
  runId: string;
  repoUrl: string;
  ref: string;
  status: RunStatus;
  createdAt: string;
  updatedAt: string;
  timeline: { event: LifecycleEventName; at: string }[];
  build?: Record<string, unknown>;
  run?: Record<string, unknown>;
  index?: Record<string, unknown>;
  failure?: { stage: string; reason: string };
}

/** What the store holds for a run: its request and one copy of each event. */
export interface StoredRun {
  runId: string;
  repoUrl: string;
  ref: string;
  createdAtMs: number;
  /** The first terminal event that arrived; it decides the outcome for good. */
  terminal: LifecycleEventName | undefined;
  events: Partial<Record<LifecycleEventName, LifecycleRecord>>;
}

/**
 * Builds the API view of a run. The status is a function of which events have
 * arrived, and events are only ever added, so a duplicate or late event can
 * never move a run backwards.
 */
export function toRunView(stored: StoredRun): RunView {
  const { events } = stored;
  const timeline = LIFECYCLE_EVENTS.flatMap((event, order) => {
    const record = events[event];
    return record ? [{ event, atMs: record.atMs, order }] : [];
  }).sort((a, b) => a.atMs - b.atMs || a.order - b.order);
  const updatedAtMs = Math.max(stored.createdAtMs, ...timeline.map((entry) => entry.atMs));

  const view: RunView = {
    runId: stored.runId,
    repoUrl: stored.repoUrl,
    ref: stored.ref,
    status: statusOf(stored),
    createdAt: iso(stored.createdAtMs),
    updatedAt: iso(updatedAtMs),
    timeline: timeline.map((entry) => ({ event: entry.event, at: iso(entry.atMs) })),
  };

  const build = stageSection(events.BuildStarted, events.BuildSucceeded, events.BuildFailed);
  if (build) view.build = build;
  const run = stageSection(events.RunStarted, events.RunSucceeded, events.RunFailed);
  if (run) view.run = run;
  const index = events.IndexingCompleted ?? events.IndexingFailed;
  if (index) {
    view.index = {
      status: index.event === 'IndexingCompleted' ? 'completed' : 'failed',
      finishedAt: iso(index.atMs),
      ...index.details,
    };
  }
  const failure = failureOf(stored);
  if (failure) view.failure = failure;
  return view;
}

function statusOf(stored: StoredRun): RunStatus {
  if (stored.terminal === 'RunSucceeded') return 'succeeded';
  if (stored.terminal === 'BuildFailed' || stored.terminal === 'RunFailed') return 'failed';
  if (stored.events.RunStarted) return 'running';
  if (stored.events.BuildSucceeded) return 'built';
  if (stored.events.BuildStarted) return 'building';
  return 'requested';
}

function failureOf(stored: StoredRun): { stage: string; reason: string } | undefined {
  if (stored.terminal === 'BuildFailed') {
    const details = stored.events.BuildFailed?.details ?? {};
    return { stage: String(details.stage ?? 'unknown'), reason: String(details.reason ?? '') };
  }
  if (stored.terminal === 'RunFailed') {
    const details = stored.events.RunFailed?.details ?? {};
    return { stage: 'run', reason: String(details.reason ?? '') };
  }
  return undefined;
}

function stageSection(
  started: LifecycleRecord | undefined,
  succeeded: LifecycleRecord | undefined,
  failed: LifecycleRecord | undefined,
): Record<string, unknown> | undefined {
  const finished = succeeded ?? failed;
  if (!started && !finished) return undefined;
  return {
    status: succeeded ? 'succeeded' : failed ? 'failed' : 'started',
    ...(started ? { startedAt: iso(started.atMs), ...started.details } : {}),
    ...(finished ? { finishedAt: iso(finished.atMs), ...finished.details } : {}),
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
