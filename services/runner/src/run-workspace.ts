import { rm, stat } from 'node:fs/promises';
import { create, type Message } from '@bufbuild/protobuf';
import {
  type BuildSucceeded,
  durationFromMs,
  nowTimestamp,
  type ProcessExit,
  RunFailedSchema,
  RunStartedSchema,
  RunSucceededSchema,
} from '@reporunner/contracts';
import {
  describeOutcome,
  type Logger,
  PlanError,
  planProject,
  runProcess,
  toProcessExit,
  workspacePath,
} from '@reporunner/service-kit';

/** What a run needs besides the event. */
export interface RunDependencies {
  workspacesDir: string;
  commandTimeoutMs: number;
  logTailBytes: number;
  keepWorkspaces: boolean;
  /** The environment of the untrusted command (see cleanEnv). */
  env: Record<string, string>;
  /** This instance's name, reported in RunStarted. */
  worker: string;
  publish: (event: Message) => Promise<unknown>;
  /** Aborted when the service shuts down: the command is killed and the run retried later. */
  signal?: AbortSignal;
}

/** The service is shutting down; the entry must be retried, not failed. */
export class RunInterruptedError extends Error {
  override readonly name = 'RunInterruptedError';
}

/**
 * Runs the run command of a built workspace: publishes RunStarted, then
 * RunSucceeded or RunFailed, and removes the workspace unless told to keep
 * it. A failing or hanging command is an outcome, published and
 * acknowledged; only a failure to publish or a shutdown throws.
 */
export async function runWorkspace(
  deps: RunDependencies,
  event: BuildSucceeded,
  logger: Logger,
): Promise<void> {
  const started = performance.now();
  const { runId } = event;
  // The workspace goes only once the outcome is published: a run whose
  // outcome could not be published (or was interrupted) is retried and needs it.
  let outcomePublished = false;
  const fail = async (reason: string, exit?: ProcessExit, outputTail = '') => {
    await deps.publish(
      create(RunFailedSchema, {
        runId,
        reason,
        ...(exit === undefined ? {} : { exit }),
        duration: durationFromMs(performance.now() - started),
        outputTail,
        finishedAt: nowTimestamp(),
      }),
    );
    outcomePublished = true;
    logger.info({ reason }, 'run failed');
  };

  const dir = workspacePath(deps.workspacesDir, event.workspace);
  if (dir === undefined || !(await isDirectory(dir))) {
    // Already run and removed (a redelivery), or the builder writes elsewhere.
    await fail(
      `workspace "${event.workspace}" not found under WORKSPACES_DIR (already run, or not shared with the builder)`,
    );
    return;
  }

  try {
    let argv: string[] | undefined;
    try {
      argv = (await planProject(dir)).run;
    } catch (error) {
      if (!(error instanceof PlanError)) throw error;
      await fail(error.message);
      return;
    }
    if (argv === undefined) {
      await fail(
        'no run command: add "run" to reporunner.json, a "test" script to package.json, or a "test" target to the Makefile',
      );
      return;
    }

    await deps.publish(
      create(RunStartedSchema, {
        runId,
        startedAt: nowTimestamp(),
        command: argv,
        worker: deps.worker,
      }),
    );
    logger.info({ command: argv }, 'run started');

    const result = await runProcess({
      argv,
      cwd: dir,
      env: deps.env,
      timeoutMs: deps.commandTimeoutMs,
      logTailBytes: deps.logTailBytes,
      ...(deps.signal === undefined ? {} : { signal: deps.signal }),
    });
    if (deps.signal?.aborted) throw new RunInterruptedError('run interrupted by shutdown');
    if (result.spawnError !== undefined) {
      await fail(result.spawnError, undefined, result.logTail);
      return;
    }
    const { outcome } = result;
    if (outcome.kind === 'exit' && outcome.exitCode === 0) {
      await deps.publish(
        create(RunSucceededSchema, {
          runId,
          exitCode: 0,
          duration: durationFromMs(result.durationMs),
          outputTail: result.logTail,
          finishedAt: nowTimestamp(),
        }),
      );
      outcomePublished = true;
      logger.info({ durationMs: result.durationMs }, 'run succeeded');
      return;
    }
    const how = describeOutcome(outcome, deps.commandTimeoutMs);
    const reason = outcome.kind === 'exit' ? `tests failed: ${how}` : `run ${how}`;
    await fail(reason, toProcessExit(outcome), result.logTail);
  } finally {
    if (!deps.keepWorkspaces && outcomePublished) await rm(dir, { recursive: true, force: true });
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
