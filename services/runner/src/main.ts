import { BuildSucceededSchema } from '@reporunner/contracts';
import { cleanEnv, createLogger, loadConfigOrExit, serveWorker } from '@reporunner/service-kit';
import {
  createRedis,
  GROUP_RUNNER,
  STREAM_REPO_RUNS,
  StreamConsumer,
  StreamProducer,
} from '@reporunner/shared';
import { loadConfig } from './config.js';
import { runWorkspace } from './run-workspace.js';

const config = loadConfigOrExit('runner', () => loadConfig(process.env));
const logger = createLogger('runner', { level: config.logLevel });
const redis = createRedis(config.redisUrl, { connectionName: 'runner', logger });

const producer = new StreamProducer({
  redis,
  stream: STREAM_REPO_RUNS,
  producerName: 'runner',
  logger,
});
const consumer = new StreamConsumer({
  redis,
  stream: STREAM_REPO_RUNS,
  group: GROUP_RUNNER,
  handles: [BuildSucceededSchema],
  concurrency: config.concurrency,
  ...(config.consumerName === undefined ? {} : { consumerName: config.consumerName }),
  logger,
  handler: async (event, context) => {
    const deps = {
      workspacesDir: config.workspacesDir,
      keepWorkspaces: config.keepWorkspaces,
      commandTimeoutMs: config.commandTimeoutMs,
      logTailBytes: config.logTailBytes,
      env: cleanEnv(process.env),
      worker: consumer.consumerName,
      publish: (message: Parameters<typeof producer.publish>[0]) => producer.publish(message),
      // Aborted when a shutdown stops waiting: the command is killed and the
      // entry stays pending, to be run again after the restart.
      signal: context.signal,
    };
    await runWorkspace(deps, event, context.logger.child({ runId: event.runId }));
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
    keepWorkspaces: config.keepWorkspaces,
  },
});
