import { RunRequestedSchema } from '@reporunner/contracts';
import { cleanEnv, createLogger, loadConfigOrExit, serveWorker } from '@reporunner/service-kit';
import {
  createRedis,
  GROUP_BUILDER,
  STREAM_REPO_RUNS,
  StreamConsumer,
  StreamProducer,
} from '@reporunner/shared';
import { buildRun } from './build-run.js';
import { loadConfig } from './config.js';

const config = loadConfigOrExit('builder', () => loadConfig(process.env));
const logger = createLogger('builder', { level: config.logLevel });
const redis = createRedis(config.redisUrl, { connectionName: 'builder', logger });

const producer = new StreamProducer({
  redis,
  stream: STREAM_REPO_RUNS,
  producerName: 'builder',
  logger,
});
const consumer = new StreamConsumer({
  redis,
  stream: STREAM_REPO_RUNS,
  group: GROUP_BUILDER,
  handles: [RunRequestedSchema],
  concurrency: config.concurrency,
  ...(config.consumerName === undefined ? {} : { consumerName: config.consumerName }),
  logger,
  handler: async (event, context) => {
    const deps = {
      workspacesDir: config.workspacesDir,
      allowedSchemes: config.allowedSchemes,
      commandTimeoutMs: config.commandTimeoutMs,
      logTailBytes: config.logTailBytes,
      env: cleanEnv(process.env),
      worker: consumer.consumerName,
      publish: (message: Parameters<typeof producer.publish>[0]) => producer.publish(message),
      // Aborted when a shutdown stops waiting: the build's processes are killed
      // and the entry stays pending, to be built again after the restart.
      signal: context.signal,
    };
    await buildRun(deps, event, context.logger.child({ runId: event.runId }));
    return true;
  },
});

await serveWorker({
  config,
  logger,
  redis,
  consumer,
  startedFields: {
    workspacesDir: config.workspacesDir,
    allowedSchemes: config.allowedSchemes,
  },
});
