import {
  BuildFailedSchema,
  BuildStartedSchema,
  BuildSucceededSchema,
  IndexingCompletedSchema,
  IndexingFailedSchema,
  RunFailedSchema,
  RunRequestedSchema,
  RunStartedSchema,
  RunSucceededSchema,
} from '@reporunner/contracts';
import {
  closeRedis,
  createLogger,
  loadConfigOrExit,
  redisPingCheck,
  startHttpServer,
  startOrExit,
} from '@reporunner/service-kit';
import {
  createRedis,
  STREAM_INDEXING,
  STREAM_REPO_RUNS,
  StreamConsumer,
  StreamLagHealthCheck,
  StreamProducer,
  terminusReadiness,
} from '@reporunner/shared';
import { createApp } from './app.js';
import { GROUP_ORCHESTRATOR, loadConfig } from './config.js';
import { recordLifecycle } from './record-lifecycle.js';
import { RunStore } from './run-store.js';

const config = loadConfigOrExit('orchestrator', () => loadConfig(process.env));
const logger = createLogger('orchestrator', { level: config.logLevel });
const redis = createRedis(config.redisUrl, { connectionName: 'orchestrator', logger });
const store = new RunStore(redis, config.runTtlSeconds);
const consumerName = config.consumerName;

// The HTTP API has a connection of its own that gives up on a command at the
// first failed reconnect, so a request answers 503 while Redis is down instead
// of waiting through ioredis's twenty retries (about a minute). The consumers
// keep the patient connection.
const apiRedis = createRedis(config.redisUrl, {
  connectionName: 'orchestrator-api',
  logger,
  redisOptions: { maxRetriesPerRequest: 0 },
});
const apiStore = new RunStore(apiRedis, config.runTtlSeconds);
const producer = new StreamProducer({
  redis: apiRedis,
  stream: STREAM_REPO_RUNS,
  producerName: 'orchestrator',
  logger,
});
const runsConsumer = new StreamConsumer({
  redis,
  stream: STREAM_REPO_RUNS,
  group: GROUP_ORCHESTRATOR,
  handles: [
    RunRequestedSchema,
    BuildStartedSchema,
    BuildSucceededSchema,
    BuildFailedSchema,
    RunStartedSchema,
    RunSucceededSchema,
    RunFailedSchema,
  ],
  concurrency: config.concurrency,
  ...(consumerName === undefined ? {} : { consumerName }),
  logger,
  handler: (event, context) => recordLifecycle(store, event, context.logger),
});
const indexingConsumer = new StreamConsumer({
  redis,
  stream: STREAM_INDEXING,
  group: GROUP_ORCHESTRATOR,
  handles: [IndexingCompletedSchema, IndexingFailedSchema],
  concurrency: config.concurrency,
  ...(consumerName === undefined ? {} : { consumerName }),
  logger,
  handler: (event, context) => recordLifecycle(store, event, context.logger),
});

const lagCheck = (stream: string) =>
  new StreamLagHealthCheck({
    redis,
    stream,
    group: GROUP_ORCHESTRATOR,
    warningThreshold: config.lagWarningThreshold,
    unhealthyThreshold: config.lagUnhealthyThreshold,
  });

await startHttpServer({
  logger,
  host: config.host,
  port: config.port,
  app: createApp({
    store: apiStore,
    publish: (event) => producer.publish(event),
    allowedSchemes: config.allowedSchemes,
    logger,
    bodyLimit: `${config.bodyLimitBytes}b`,
  }),
  readiness: terminusReadiness({
    redis: redisPingCheck(redis),
    runsLag: lagCheck(STREAM_REPO_RUNS),
    indexingLag: lagCheck(STREAM_INDEXING),
  }),
  onShutdown: async () => {
    await Promise.all([
      runsConsumer.stop({ timeoutMs: config.shutdownTimeoutMs }),
      indexingConsumer.stop({ timeoutMs: config.shutdownTimeoutMs }),
    ]);
    await Promise.all([closeRedis(redis), closeRedis(apiRedis)]);
  },
});
await startOrExit(logger, () => Promise.all([runsConsumer.start(), indexingConsumer.start()]));
logger.info(
  { consumer: runsConsumer.consumerName, allowedSchemes: config.allowedSchemes },
  'orchestrator started',
);
