import { BuildSucceededSchema } from '@reporunner/contracts';
import {
  cleanEnv,
  closeRedis,
  createLogger,
  loadConfigOrExit,
  redisPingCheck,
  startHttpServer,
  startOrExit,
} from '@reporunner/service-kit';
import {
  createRedis,
  GROUP_RUNNER,
  STREAM_REPO_RUNS,
  StreamConsumer,
  StreamLagHealthCheck,
  StreamProducer,
  terminusReadiness,
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

await startHttpServer({
  logger,
  host: config.host,
  port: config.port,
  readiness: terminusReadiness({
    redis: redisPingCheck(redis),
    lag: new StreamLagHealthCheck({
      redis,
      stream: STREAM_REPO_RUNS,
      group: GROUP_RUNNER,
      warningThreshold: config.lagWarningThreshold,
      unhealthyThreshold: config.lagUnhealthyThreshold,
    }),
  }),
  onShutdown: async () => {
    await consumer.stop({ timeoutMs: config.shutdownTimeoutMs });
    await closeRedis(redis);
  },
});
await startOrExit(logger, () => consumer.start());
logger.info(
  {
    consumer: consumer.consumerName,
    workspacesDir: config.workspacesDir,
    keepWorkspaces: config.keepWorkspaces,
  },
  'runner started',
);
