import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { create, type Message } from '@bufbuild/protobuf';
import {
  durationFromMs,
  IndexingCompletedSchema,
  IndexingFailedSchema,
  nowTimestamp,
  type RunRequested,
} from '@reporunner/contracts';
import {
  checkRepoUrl,
  fetchCommit,
  GitError,
  type Logger,
  type RepoScheme,
  refNameProblem,
  trackedFiles,
} from '@reporunner/service-kit';
import { indexFiles } from './index-files.js';

/** What indexing needs besides the event. */
export interface IndexDependencies {
  indexDir: string;
  allowedSchemes: readonly RepoScheme[];
  commandTimeoutMs: number;
  /** The environment git runs in (see cleanEnv). */
  env: Record<string, string>;
  publish: (event: Message) => Promise<unknown>;
  /** Aborted when the service shuts down: git is killed and the entry retried later. */
  signal?: AbortSignal;
}

/** The repository cannot be indexed; published as IndexingFailed. */
class IndexFailure extends Error {
  override readonly name = 'IndexFailure';
}

/**
 * Indexes a requested run's repository on its own checkout (the builder's
 * workspace is not shared with the indexer) and publishes IndexingCompleted or
 * IndexingFailed. The checkout is removed afterwards whatever happens.
 */
export async function indexRun(
  deps: IndexDependencies,
  event: RunRequested,
  logger: Logger,
): Promise<void> {
  const started = performance.now();
  const { runId } = event;
  await mkdir(deps.indexDir, { recursive: true });
  const dir = await mkdtemp(join(deps.indexDir, 'checkout-'));
  try {
    const commitSha = await fetch(deps, event, join(dir, 'repo'));
    const paths = await trackedFiles(gitSettings(deps), join(dir, 'repo'));
    const index = await indexFiles(join(dir, 'repo'), paths);
    const duration = durationFromMs(performance.now() - started);
    await deps.publish(
      create(IndexingCompletedSchema, {
        runId,
        commitSha,
        totalFiles: BigInt(index.totalFiles),
        totalBytes: BigInt(index.totalBytes),
        totalLines: BigInt(index.totalLines),
        binaryFiles: BigInt(index.binaryFiles),
        languages: index.languages.map((language) => ({
          language: language.language,
          files: BigInt(language.files),
          bytes: BigInt(language.bytes),
          lines: BigInt(language.lines),
        })),
        largestFiles: index.largestFiles.map((file) => ({
          path: file.path,
          bytes: BigInt(file.bytes),
          lines: BigInt(file.lines),
          language: file.language,
        })),
        manifests: index.manifests,
        duration,
        finishedAt: nowTimestamp(),
      }),
    );
    logger.info(
      { commitSha, totalFiles: index.totalFiles, totalLines: index.totalLines },
      'indexing completed',
    );
  } catch (error) {
    if (!(error instanceof IndexFailure)) throw error;
    await deps.publish(
      create(IndexingFailedSchema, {
        runId,
        reason: error.message,
        duration: durationFromMs(performance.now() - started),
        finishedAt: nowTimestamp(),
      }),
    );
    logger.info({ reason: error.message }, 'indexing failed');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function fetch(deps: IndexDependencies, event: RunRequested, dir: string): Promise<string> {
  const checked = checkRepoUrl(event.repoUrl, deps.allowedSchemes);
  if ('problem' in checked) throw new IndexFailure(`repository URL refused: ${checked.problem}`);
  const refProblem = event.ref === '' ? undefined : refNameProblem(event.ref);
  if (refProblem !== undefined) throw new IndexFailure(`ref refused: ${refProblem}`);
  try {
    return (await fetchCommit(gitSettings(deps), checked.gitUrl, event.ref, dir)).commitSha;
  } catch (error) {
    if (error instanceof GitError) throw new IndexFailure(error.reason);
    throw error;
  }
}

function gitSettings(deps: IndexDependencies) {
  return {
    allowedSchemes: deps.allowedSchemes,
    env: deps.env,
    timeoutMs: deps.commandTimeoutMs,
    logTailBytes: 4096,
    ...(deps.signal === undefined ? {} : { signal: deps.signal }),
  };
}
