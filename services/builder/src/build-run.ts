import { rm } from 'node:fs/promises';
import { create, type Message } from '@bufbuild/protobuf';
import {
  BuildFailedSchema,
  BuildStage,
  BuildStartedSchema,
  BuildSucceededSchema,
  durationFromMs,
  nowTimestamp,
  type ProcessExit,
  type RunRequested,
} from '@reporunner/contracts';
import {
  checkRepoUrl,
  describeOutcome,
  fetchCommit,
  GitError,
  type Logger,
  LogTail,
  PlanError,
  planProject,
  type RepoScheme,
  refNameProblem,
  runProcess,
  toProcessExit,
  workspacePath,
} from '@reporunner/service-kit';

/** What a build needs besides the event. */
export interface BuildDependencies {
  workspacesDir: string;
  allowedSchemes: readonly RepoScheme[];
  /** Limit of each command: git fetch, install, build. */
  commandTimeoutMs: number;
  logTailBytes: number;
  /** The environment of untrusted commands (see cleanEnv). */
  env: Record<string, string>;
  /** This instance's name, reported in BuildStarted. */
  worker: string;
  publish: (event: Message) => Promise<unknown>;
  /** Aborted when the service shuts down: running commands are killed and the build is retried later. */
  signal?: AbortSignal;
}

/** The service is shutting down; the entry must be retried, not failed. */
export class BuildInterruptedError extends Error {
  override readonly name = 'BuildInterruptedError';
}

/** A failed build, ready to be published. */
class BuildFailure extends Error {
  override readonly name = 'BuildFailure';

  constructor(
    readonly stage: BuildStage,
    readonly reason: string,
    readonly exit?: ProcessExit,
    readonly logTail = '',
  ) {
    super(reason);
  }
}

/**
 * Builds one requested run: publishes BuildStarted, fetches the repository at
 * the ref into `WORKSPACES_DIR/<runId>`, installs and builds it, and publishes
 * BuildSucceeded or BuildFailed. A failure of the repository (bad ref, failing
 * build, timeout) is an outcome, published and acknowledged; only a failure
 * to publish or a shutdown throws, so the entry is retried.
 */
export async function buildRun(
  deps: BuildDependencies,
  event: RunRequested,
  logger: Logger,
): Promise<void> {
  const started = performance.now();
  const { runId } = event;
  const elapsed = () => durationFromMs(performance.now() - started);

  await deps.publish(
    create(BuildStartedSchema, { runId, startedAt: nowTimestamp(), worker: deps.worker }),
  );
  logger.info({ repoUrl: event.repoUrl, ref: event.ref }, 'build started');

  const dir = workspacePath(deps.workspacesDir, runId);
  let commitSha = '';
  try {
    if (dir === undefined)
      throw new BuildFailure(BuildStage.CLONE, 'run id is not a usable workspace name');
    // A redelivered entry finds the leftovers of the attempt before it.
    await rm(dir, { recursive: true, force: true });

    commitSha = await clone(deps, event, dir);
    logger.info({ commitSha }, 'repository fetched');

    const plan = await detect(dir);
    const tail = new LogTail(deps.logTailBytes);
    if (plan.install) await step(deps, BuildStage.INSTALL, plan.install, dir, tail, logger);
    if (plan.build) await step(deps, BuildStage.BUILD, plan.build, dir, tail, logger);

    await deps.publish(
      create(BuildSucceededSchema, {
        runId,
        commitSha,
        workspace: runId,
        duration: elapsed(),
        logTail: tail.text(),
        finishedAt: nowTimestamp(),
        convention: plan.convention,
      }),
    );
    logger.info({ commitSha, convention: plan.convention }, 'build succeeded');
  } catch (error) {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    if (!(error instanceof BuildFailure)) throw error;
    await deps.publish(
      create(BuildFailedSchema, {
        runId,
        stage: error.stage,
        reason: error.reason,
        ...(error.exit === undefined ? {} : { exit: error.exit }),
        logTail: error.logTail,
        duration: elapsed(),
        finishedAt: nowTimestamp(),
        commitSha,
      }),
    );
    logger.info({ stage: BuildStage[error.stage], reason: error.reason }, 'build failed');
  }
}

async function clone(deps: BuildDependencies, event: RunRequested, dir: string): Promise<string> {
  const checked = checkRepoUrl(event.repoUrl, deps.allowedSchemes);
  if ('problem' in checked) {
    throw new BuildFailure(BuildStage.CLONE, `repository URL refused: ${checked.problem}`);
  }
  const refProblem = event.ref === '' ? undefined : refNameProblem(event.ref);
  if (refProblem !== undefined)
    throw new BuildFailure(BuildStage.CLONE, `ref refused: ${refProblem}`);
  try {
    const settings = {
      allowedSchemes: deps.allowedSchemes,
      env: deps.env,
      timeoutMs: deps.commandTimeoutMs,
      logTailBytes: deps.logTailBytes,
      ...(deps.signal === undefined ? {} : { signal: deps.signal }),
    };
    const { commitSha } = await fetchCommit(settings, checked.gitUrl, event.ref, dir);
    return commitSha;
  } catch (error) {
    if (!(error instanceof GitError)) throw error;
    throw new BuildFailure(
      BuildStage.CLONE,
      error.reason,
      toProcessExit(error.outcome),
      error.logTail,
    );
  }
}

async function detect(dir: string) {
  try {
    return await planProject(dir);
  } catch (error) {
    if (error instanceof PlanError) throw new BuildFailure(BuildStage.DETECT, error.message);
    throw error;
  }
}

async function step(
  deps: BuildDependencies,
  stage: BuildStage.INSTALL | BuildStage.BUILD,
  argv: string[],
  dir: string,
  tail: LogTail,
  logger: Logger,
): Promise<void> {
  const name = stage === BuildStage.INSTALL ? 'install' : 'build';
  logger.info({ stage: name, command: argv }, 'build step started');
  tail.push(`$ ${argv.join(' ')}\n`);
  const result = await runProcess({
    argv,
    cwd: dir,
    env: deps.env,
    timeoutMs: deps.commandTimeoutMs,
    logTailBytes: deps.logTailBytes,
    ...(deps.signal === undefined ? {} : { signal: deps.signal }),
  });
  tail.push(result.logTail);
  if (deps.signal?.aborted) throw new BuildInterruptedError(`${name} interrupted by shutdown`);
  if (result.spawnError !== undefined) {
    throw new BuildFailure(stage, `${name} failed: ${result.spawnError}`, undefined, tail.text());
  }
  if (result.outcome.kind === 'exit' && result.outcome.exitCode === 0) return;
  const how = describeOutcome(result.outcome, deps.commandTimeoutMs);
  const reason = result.outcome.kind === 'timeout' ? `${name} ${how}` : `${name} failed: ${how}`;
  throw new BuildFailure(stage, reason, toProcessExit(result.outcome), tail.text());
}
