import type { Message } from '@bufbuild/protobuf';
import type { Timestamp } from '@bufbuild/protobuf/wkt';
import {
  type BuildFailed,
  BuildStage,
  type BuildStarted,
  type BuildSucceeded,
  durationMs,
  type IndexingCompleted,
  type IndexingFailed,
  type ProcessExit,
  type RunFailed,
  type RunRequested,
  type RunStarted,
  type RunSucceeded,
  timestampMs,
} from '@reporunner/contracts';

/** Short names of the events a run record keeps, in lifecycle order. */
export const LIFECYCLE_EVENTS = [
  'RunRequested',
  'BuildStarted',
  'BuildSucceeded',
  'BuildFailed',
  'RunStarted',
  'RunSucceeded',
  'RunFailed',
  'IndexingCompleted',
  'IndexingFailed',
] as const;

/** One of LIFECYCLE_EVENTS. */
export type LifecycleEventName = (typeof LIFECYCLE_EVENTS)[number];

/** The events after which a run's outcome is settled. */
export const TERMINAL_EVENTS: readonly LifecycleEventName[] = [
  'BuildFailed',
  'RunSucceeded',
  'RunFailed',
];

/**
 * Start events of which a record keeps the copy with the latest time, until
 * one of the listed outcomes is recorded. A build or run claimed by a second
 * worker after the first died starts again, and the view should name the
 * worker whose outcome follows (outcome events carry no worker). Once the
 * outcome is in, a late start changes nothing.
 */
export const LATEST_START_WINS: Readonly<
  Partial<Record<LifecycleEventName, readonly LifecycleEventName[]>>
> = {
  BuildStarted: ['BuildSucceeded', 'BuildFailed'],
  RunStarted: ['RunSucceeded', 'RunFailed'],
};

/**
 * Events a record refuses once any of the listed ones is in it: the first
 * outcome of a stage stands. A redelivered build that fails after one that
 * succeeded (or a run started from that failed branch) would otherwise put two
 * contradicting stories in one record.
 */
export const CONFLICTING_EVENTS: Readonly<
  Record<LifecycleEventName, readonly LifecycleEventName[]>
> = {
  RunRequested: [],
  BuildStarted: [],
  BuildSucceeded: ['BuildFailed'],
  BuildFailed: ['BuildSucceeded'],
  RunStarted: ['BuildFailed'],
  RunSucceeded: ['RunFailed', 'BuildFailed'],
  RunFailed: ['RunSucceeded', 'BuildFailed'],
  IndexingCompleted: ['IndexingFailed'],
  IndexingFailed: ['IndexingCompleted'],
};

/** How a process ended, as the API shows it. */
export type ExitView = { exitCode: number } | { timedOut: true } | { signal: string };

/**
 * What a run record keeps of one event: its time (ms since epoch) and the
 * fields the API shows, as plain JSON.
 */
export interface LifecycleRecord {
  event: LifecycleEventName;
  runId: string;
  atMs: number;
  details: Record<string, unknown>;
}

/** Turns a contract event into a LifecycleRecord; undefined for messages a run does not keep. */
export function toLifecycleRecord(message: Message): LifecycleRecord | undefined {
  const event = message.$typeName.slice(message.$typeName.lastIndexOf('.') + 1);
  switch (event) {
    case 'RunRequested': {
      const m = message as RunRequested;
      return record(event, m.runId, m.requestedAt, {
        repoUrl: m.repoUrl,
        ref: m.ref,
        requestedBy: { kind: m.requestedBy?.kind ?? '', id: m.requestedBy?.id ?? '' },
      });
    }
    case 'BuildStarted': {
      const m = message as BuildStarted;
      return record(event, m.runId, m.startedAt, { worker: m.worker });
    }
    case 'BuildSucceeded': {
      const m = message as BuildSucceeded;
      return record(event, m.runId, m.finishedAt, {
        commitSha: m.commitSha,
        workspace: m.workspace,
        convention: m.convention,
        durationMs: m.duration ? durationMs(m.duration) : 0,
        logTail: m.logTail,
      });
    }
    case 'BuildFailed': {
      const m = message as BuildFailed;
      return record(event, m.runId, m.finishedAt, {
        stage: buildStageName(m.stage),
        reason: m.reason,
        ...exitField(m.exit),
        commitSha: m.commitSha,
        durationMs: m.duration ? durationMs(m.duration) : 0,
        logTail: m.logTail,
      });
    }
    case 'RunStarted': {
      const m = message as RunStarted;
      return record(event, m.runId, m.startedAt, { command: [...m.command], worker: m.worker });
    }
    case 'RunSucceeded': {
      const m = message as RunSucceeded;
      return record(event, m.runId, m.finishedAt, {
        exitCode: m.exitCode,
        durationMs: m.duration ? durationMs(m.duration) : 0,
        outputTail: m.outputTail,
      });
    }
    case 'RunFailed': {
      const m = message as RunFailed;
      return record(event, m.runId, m.finishedAt, {
        reason: m.reason,
        ...exitField(m.exit),
        durationMs: m.duration ? durationMs(m.duration) : 0,
        outputTail: m.outputTail,
      });
    }
    case 'IndexingCompleted': {
      const m = message as IndexingCompleted;
      return record(event, m.runId, m.finishedAt, {
        commitSha: m.commitSha,
        totalFiles: Number(m.totalFiles),
        totalBytes: Number(m.totalBytes),
        totalLines: Number(m.totalLines),
        binaryFiles: Number(m.binaryFiles),
        languages: m.languages.map((language) => ({
          language: language.language,
          files: Number(language.files),
          bytes: Number(language.bytes),
          lines: Number(language.lines),
        })),
        largestFiles: m.largestFiles.map((file) => ({
          path: file.path,
          bytes: Number(file.bytes),
          lines: Number(file.lines),
          language: file.language,
        })),
        manifests: [...m.manifests],
        durationMs: m.duration ? durationMs(m.duration) : 0,
      });
    }
    case 'IndexingFailed': {
      const m = message as IndexingFailed;
      return record(event, m.runId, m.finishedAt, {
        reason: m.reason,
        durationMs: m.duration ? durationMs(m.duration) : 0,
      });
    }
    default:
      return undefined;
  }
}

function record(
  event: LifecycleEventName,
  runId: string,
  at: Timestamp | undefined,
  details: Record<string, unknown>,
): LifecycleRecord {
  // An event without a time (a foreign producer) is placed when it arrived.
  return { event, runId, atMs: at ? timestampMs(at) : Date.now(), details };
}

function exitField(exit: ProcessExit | undefined): { exit?: ExitView } {
  switch (exit?.outcome.case) {
    case 'exitCode':
      return { exit: { exitCode: exit.outcome.value } };
    case 'timedOut':
      return { exit: { timedOut: true } };
    case 'signal':
      return { exit: { signal: exit.outcome.value } };
    default:
      return {};
  }
}

/** `clone`, `detect`, `install`, `build`, or `unknown`. */
export function buildStageName(stage: BuildStage): string {
  switch (stage) {
    case BuildStage.CLONE:
      return 'clone';
    case BuildStage.DETECT:
      return 'detect';
    case BuildStage.INSTALL:
      return 'install';
    case BuildStage.BUILD:
      return 'build';
    default:
      return 'unknown';
  }
}
