export * from './backoff.js';
export * from './constants.js';
export type { HandlerContext, StreamConsumerOptions, StreamHandler } from './consumer-options.js';
export * from './create-redis.js';
export type { DeadLetter, DeadLetterReason } from './dead-letter.js';
export * from './entry-fields.js';
export * from './errors/configuration-error.js';
export * from './errors/permanent-error.js';
export { failureLogKey } from './failure-log.js';
export * from './health/dead-letter-health-check.js';
export type {
  HealthCheck,
  HealthResult,
  HealthStatus,
  HealthThresholds,
} from './health/health-result.js';
export * from './health/stream-lag-health-check.js';
export * from './health/terminus-readiness.js';
export * from './silent-logger.js';
export * from './stream-consumer.js';
export * from './stream-lag.js';
export * from './stream-producer.js';
export * from './trim.js';
