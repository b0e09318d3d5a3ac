import { RunRequestedSchema } from '@reporunner/contracts';
import { cleanEnv, createLogger, loadConfigOrExit, serveWorker } from '@reporunner/service-kit';
import {
  createRedis,
  GROUP_INDEXER,
  STREAM_INDEXING,
  STREAM_REPO_RUNS,
  StreamConsumer,
  StreamProducer,
} from '@reporunner/shared';
import { loadConfig } from './config.js';
import { indexRun } from './index-run.js';

const config = loadConfigOrExit('indexer', () => loadConfig(process.env));
const logger = createLogger('indexer', { level: config.logLevel });
const redis = createRedis(config.redisUrl, { connectionName: 'indexer', logger });

// Reads RunRequested from stream:repo-runs, writes its results to stream:indexing.
const producer = new StreamProducer({
  redis,
  stream: STREAM_INDEXING,
  producerName: 'indexer',
  logger,
});
const consumer = new StreamConsumer({
  redis,
  stream: STREAM_REPO_RUNS,
  group: GROUP_INDEXER,
  handles: [RunRequestedSchema],
  concurrency: config.concurrency,
  ...(config.consumerName === undefined ? {} : { consumerName: config.consumerName }),
  logger,
  handler: async (event, context) => {
    const deps = {
      indexDir: config.indexDir,
      allowedSchemes: config.allowedSchemes,
      commandTimeoutMs: config.commandTimeoutMs,
      env: cleanEnv(process.env),
      publish: (message: Parameters<typeof producer.publish>[0]) => producer.publish(message),
      signal: context.signal,
    };
    await indexRun(deps, event, context.logger.child({ runId: event.runId }));
    return true;
  },
});

await serveWorker({
  config,
  logger,
  redis,
  consumer,
  startedFields: {
    indexDir: config.indexDir,
    allowedSchemes: config.allowedSchemes,
  },
});
