/** Stream of the run lifecycle: RunRequested, Build*, Run* events. */
export const STREAM_REPO_RUNS = 'stream:repo-runs';

/** Stream of the indexing results: IndexingCompleted, IndexingFailed. */
export const STREAM_INDEXING = 'stream:indexing';

/** Group of the builder service; it handles RunRequested. */
export const GROUP_BUILDER = 'group:builder';

/** Group of the runner service; it handles BuildSucceeded. */
export const GROUP_RUNNER = 'group:runner';

/** Group of the indexer service; it handles RunRequested. */
export const GROUP_INDEXER = 'group:indexer';

/** Redis list that receives dead letters as JSON documents. */
export const DEAD_LETTER_LIST = 'list:dlq';

/** Handler calls an entry gets before it is dead-lettered. */
export const DEFAULT_MAX_ATTEMPTS = 3;

/** Pending entries idle longer than this are claimed by a live consumer. */
export const DEFAULT_CLAIM_IDLE_MS = 60_000;
