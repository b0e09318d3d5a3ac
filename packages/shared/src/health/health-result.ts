/** Health of one dependency, the way the service reports it. */
export type HealthStatus = 'Healthy' | 'Degraded' | 'Unhealthy';

/** A check's answer, with details for the health response. */
export interface HealthResult {
  status: HealthStatus;
  details: Record<string, unknown>;
}

/** Anything that can answer a health probe. */
export interface HealthCheck {
  /** Key of this check in a readiness report built from a list. */
  readonly name?: string;
  check(): Promise<HealthResult>;
}

/** Thresholds shared by the checks: a measured depth against two limits. */
export interface HealthThresholds {
  /** Degraded from this value on. */
  warningThreshold: number;
  /** Unhealthy from this value on; must be >= warningThreshold. */
  unhealthyThreshold: number;
}

/** Healthy below warning, Degraded from warning, Unhealthy from unhealthy. */
export function statusFor(value: number, thresholds: HealthThresholds): HealthStatus {
  if (value >= thresholds.unhealthyThreshold) return 'Unhealthy';
  if (value >= thresholds.warningThreshold) return 'Degraded';
  return 'Healthy';
}

/** Throws when the thresholds cannot work. */
export function assertThresholds(owner: string, thresholds: HealthThresholds): void {
  const { warningThreshold, unhealthyThreshold } = thresholds;
  if (!(Number.isFinite(warningThreshold) && Number.isFinite(unhealthyThreshold))) {
    throw new RangeError(`${owner}: warningThreshold and unhealthyThreshold must be numbers`);
  }
  if (warningThreshold > unhealthyThreshold) {
    throw new RangeError(`${owner}: warningThreshold must not exceed unhealthyThreshold`);
  }
}

/**
 * Runs `probe` unless the connection is not ready, in which case waiting on
 * ioredis's offline queue would hang the health endpoint; bounded by `timeoutMs`.
 */
export async function probeRedis<T>(
  status: string,
  timeoutMs: number,
  probe: () => Promise<T>,
): Promise<T> {
  if (status !== 'ready') throw new Error(`redis connection is ${status}`);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`redis did not answer in ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([probe(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
