/** The part of an ioredis client the ping check uses. */
export interface PingableRedis {
  readonly status: string;
  ping(): Promise<string>;
}

/** A health check's answer; the same shape as packages/shared's HealthResult. */
export interface PingResult {
  status: 'Healthy' | 'Unhealthy';
  details: Record<string, unknown>;
}

/**
 * A health check that Redis answers PING within `timeoutMs`. A connection that
 * is not ready fails at once instead of waiting in ioredis's offline queue,
 * so the probe never hangs.
 */
export function redisPingCheck(redis: PingableRedis, timeoutMs = 2_000) {
  return {
    async check(): Promise<PingResult> {
      if (redis.status !== 'ready') {
        return { status: 'Unhealthy', details: { error: `redis connection is ${redis.status}` } };
      }
      const started = performance.now();
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          redis.ping(),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
        return {
          status: 'Healthy',
          details: { latencyMs: Math.round(performance.now() - started) },
        };
      } catch (error) {
        return {
          status: 'Unhealthy',
          details: { error: error instanceof Error ? error.message : String(error) },
        };
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
