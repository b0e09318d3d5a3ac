import { randomUUID } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import { nowTimestamp, type RunRequested, RunRequestedSchema } from '@reporunner/contracts';
import type { Logger, RepoScheme } from '@reporunner/service-kit';
import express, { type ErrorRequestHandler, type Express } from 'express';
import { toLifecycleRecord } from './lifecycle-event.js';
import { isInputProblem, parseRunRequest } from './run-request.js';
import type { RunStore } from './run-store.js';

/** What the HTTP API needs. */
export interface AppDependencies {
  store: RunStore;
  /** Publishes RunRequested to stream:repo-runs; resolves with the entry id. */
  publish: (event: RunRequested) => Promise<string>;
  allowedSchemes: readonly RepoScheme[];
  logger: Logger;
  /** Largest accepted body, e.g. `4kb`. */
  bodyLimit: string;
  newRunId?: () => string;
}

// Run ids this API makes are UUIDs; events from other producers may use any
// plain name, so only characters that cannot form another key are required.
const RUN_ID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;
const DEFAULT_LIST_LIMIT = 20;
const MAX_LIST_LIMIT = 100;

/**
 * The orchestrator's HTTP API: POST /runs, GET /runs/:runId, GET /runs.
 * Errors are JSON: `{ "error": "...", "field": "..." }`.
 */
export function createApp(deps: AppDependencies): Express {
  const { store, logger } = deps;
  const newRunId = deps.newRunId ?? randomUUID;
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: deps.bodyLimit, type: () => true }));

  app.post('/runs', async (request, response) => {
    const input = parseRunRequest(request.body, deps.allowedSchemes);
    if (isInputProblem(input)) {
      response.status(400).json({ error: `${input.field} ${input.message}`, field: input.field });
      return;
    }

    const runId = newRunId();
    const event = create(RunRequestedSchema, {
      runId,
      repoUrl: input.repoUrl,
      ref: input.ref,
      requestedAt: nowTimestamp(),
      requestedBy: { kind: 'api', id: '' },
    });
    const entryId = await deps.publish(event);
    // The consumer records RunRequested too; this write only makes the run
    // visible to a GET that comes before the consumer gets to it.
    const record = toLifecycleRecord(event);
    if (record) await store.record(record);
    logger.info({ runId, entryId, repoUrl: input.repoUrl, ref: input.ref }, 'run requested');

    response.status(202).location(`/runs/${runId}`).json({ runId, status: 'requested' });
  });

  app.get('/runs/:runId', async (request, response) => {
    const { runId } = request.params;
    const run = RUN_ID_PATTERN.test(runId) ? await store.get(runId) : undefined;
    if (!run) {
      response.status(404).json({ error: `run ${runId} not found`, field: 'runId' });
      return;
    }
    response.json(run);
  });

  app.get('/runs', async (request, response) => {
    const text = request.query.limit;
    let limit = DEFAULT_LIST_LIMIT;
    if (text !== undefined) {
      limit = typeof text === 'string' && /^\d+$/.test(text) ? Number(text) : 0;
      if (limit < 1 || limit > MAX_LIST_LIMIT) {
        response
          .status(400)
          .json({ error: `limit must be an integer from 1 to ${MAX_LIST_LIMIT}`, field: 'limit' });
        return;
      }
    }
    response.json({ runs: await store.list(limit) });
  });

  app.use((_request, response) => {
    response.status(404).json({ error: 'not found' });
  });
  app.use(errorHandler(logger));
  return app;
}

// What a client is told for each of body-parser's error types.
const BODY_ERRORS: Readonly<Record<string, string>> = {
  'entity.too.large': 'body is larger than the limit',
  'entity.parse.failed': 'body is not valid JSON',
  'charset.unsupported': 'body charset is not supported; send UTF-8',
  'encoding.unsupported': 'body content encoding is not supported',
};

function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error, _request, response, _next) => {
    // body-parser marks its own errors with a 4xx status, most with a type; a
    // body that fails to decompress has only the status. They are the client's.
    const { type, status } = error as { type?: string; status?: number };
    if (status !== undefined && status >= 400 && status < 500) {
      const message = (type === undefined ? undefined : BODY_ERRORS[type]) ?? 'body cannot be read';
      response.status(400).json({ error: message, field: 'body' });
      return;
    }
    logger.error({ err: error }, 'request failed');
    response.status(503).json({ error: 'service unavailable, try again' });
  };
}
