import type { Redis } from 'ioredis';
import { readStreamLag } from '../stream-lag.js';
import {
  assertThresholds,
  type HealthCheck,
  type HealthResult,
  type HealthThresholds,
  probeRedis,
  statusFor,
} from './health-result.js';

/** Options of a StreamLagHealthCheck. */
export interface StreamLagHealthCheckOptions extends HealthThresholds {
  redis: Redis;
  stream: string;
  group: string;
  /** A probe slower than this is Unhealthy. Default 2,000 ms. */
  timeoutMs?: number;
}

/**
 * Grades a group's backlog (undelivered + pending, see StreamLag). An unknown
 * backlog (Redis 6.2, or XINFO's lag null after XDEL or trimming) is Degraded,
 * never Healthy, unless the pending entries alone reach a threshold. A group
 * that does not exist yet is Degraded. Redis unreachable is Unhealthy.
 */
export class StreamLagHealthCheck implements HealthCheck {
  /** `stream-lag:<stream>:<group>`, the key in a readiness report built from a list. */
  readonly name: string;
  readonly #options: StreamLagHealthCheckOptions;

  constructor(options: StreamLagHealthCheckOptions) {
    assertThresholds('StreamLagHealthCheck', options);
    this.#options = options;
    this.name = `stream-lag:${options.stream}:${options.group}`;
  }

  async check(): Promise<HealthResult> {
    const { redis, stream, group } = this.#options;
    let lag: Awaited<ReturnType<typeof readStreamLag>>;
    try {
      lag = await probeRedis(redis.status, this.#options.timeoutMs ?? 2_000, () =>
        readStreamLag(redis, stream, group),
      );
    } catch (error) {
      return {
        status: 'Unhealthy',
        details: { stream, group, error: error instanceof Error ? error.message : String(error) },
      };
    }

    const details: Record<string, unknown> = {
      stream,
      group,
      lag: lag.lag,
      undelivered: lag.undelivered,
      pending: lag.pending,
      consumers: lag.consumers,
      lastDeliveredId: lag.lastDeliveredId,
      warningThreshold: this.#options.warningThreshold,
      unhealthyThreshold: this.#options.unhealthyThreshold,
    };
    if (!lag.groupExists)
      return { status: 'Degraded', details: { ...details, reason: 'group-missing' } };
    if (lag.lag !== null) return { status: statusFor(lag.lag, this.#options), details };

    // Pending entries are a lower bound of the backlog.
    const floor = statusFor(lag.pending, this.#options);
    return {
      status: floor === 'Unhealthy' ? 'Unhealthy' : 'Degraded',
      details: { ...details, reason: 'lag-unknown' },
    };
  }
}
