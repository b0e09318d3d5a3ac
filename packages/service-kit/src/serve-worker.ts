import { StreamLagHealthCheck, terminusReadiness } from '@reporunner/shared';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { closeRedis } from './close-redis.js';
import { startHttpServer } from './http-server.js';
import { redisPingCheck } from './redis-ping-check.js';
import type { ServiceConfig } from './service-config.js';
import { startOrExit } from './start-or-exit.js';

/** The part of a StreamConsumer that serveWorker drives. */
export interface WorkerConsumer {
  readonly stream: string;
  readonly group: string;
  readonly consumerName: string;
  start(): Promise<void>;
  stop(options?: { timeoutMs?: number }): Promise<void>;
}

/** What serveWorker needs to run one worker service. */
export interface WorkerServiceOptions {
  config: Pick<
    ServiceConfig,
    'host' | 'port' | 'shutdownTimeoutMs' | 'lagWarningThreshold' | 'lagUnhealthyThreshold'
  >;
  logger: Logger;
  /** The connection the consumer and producer share; closed at shutdown. */
  redis: Redis;
  consumer: WorkerConsumer;
  /** Settings worth seeing in the start line (never secrets). */
  startedFields?: Record<string, unknown>;
}

/**
 * Runs a worker: serves /health/live and /health/ready (Redis answers, the
 * consumer's group lag within the configured thresholds), starts the consumer,
 * and on SIGTERM/SIGINT stops it gracefully before closing Redis.
 */
export async function serveWorker(options: WorkerServiceOptions): Promise<void> {
  const { config, logger, redis, consumer } = options;

  await startHttpServer({
    logger,
    host: config.host,
    port: config.port,
    readiness: terminusReadiness({
      redis: redisPingCheck(redis),
      lag: new StreamLagHealthCheck({
        redis,
        stream: consumer.stream,
        group: consumer.group,
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
  logger.info({ consumer: consumer.consumerName, ...options.startedFields }, 'service started');
}
