import type { Redis } from 'ioredis';
import { DEAD_LETTER_LIST } from '../constants.js';
import {
  assertThresholds,
  type HealthCheck,
  type HealthResult,
  type HealthThresholds,
  probeRedis,
  statusFor,
} from './health-result.js';

/** Options of a DeadLetterHealthCheck. */
export interface DeadLetterHealthCheckOptions extends HealthThresholds {
  redis: Redis;
  /** Default DEAD_LETTER_LIST (`list:dlq`). */
  list?: string;
  /** A probe slower than this is Unhealthy. Default 2,000 ms. */
  timeoutMs?: number;
}

/** Grades the depth of the dead-letter list (LLEN) against two thresholds. */
export class DeadLetterHealthCheck implements HealthCheck {
  /** `dead-letters:<list>`, the key in a readiness report built from a list. */
  readonly name: string;
  readonly #options: DeadLetterHealthCheckOptions;

  constructor(options: DeadLetterHealthCheckOptions) {
    assertThresholds('DeadLetterHealthCheck', options);
    this.#options = options;
    this.name = `dead-letters:${options.list ?? DEAD_LETTER_LIST}`;
  }

  async check(): Promise<HealthResult> {
    const { redis } = this.#options;
    const list = this.#options.list ?? DEAD_LETTER_LIST;
    let depth: number;
    try {
      depth = await probeRedis(redis.status, this.#options.timeoutMs ?? 2_000, () =>
        redis.llen(list),
      );
    } catch (error) {
      return {
        status: 'Unhealthy',
        details: { list, error: error instanceof Error ? error.message : String(error) },
      };
    }
    return {
      status: statusFor(depth, this.#options),
      details: {
        list,
        depth,
        warningThreshold: this.#options.warningThreshold,
        unhealthyThreshold: this.#options.unhealthyThreshold,
      },
    };
  }
}
