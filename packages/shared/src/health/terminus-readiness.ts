import { HealthCheckError } from '@godaddy/terminus';
import type { HealthCheck, HealthResult } from './health-result.js';

/**
 * Makes a readiness function for @godaddy/terminus `healthChecks`, from
 * named checks or a list of checks (keyed by their `name`). It runs
 * every check at once and resolves to `{ name: { status, ...details } }`;
 * when any check is Unhealthy (or throws) it throws terminus's
 * HealthCheckError with the same object, so terminus answers 503 with the
 * details. Degraded stays ready.
 */
export function terminusReadiness(
  checks: Record<string, HealthCheck> | readonly HealthCheck[],
): () => Promise<Record<string, unknown>> {
  // A list is keyed by each check's name, or its position when it has none.
  const entries: [string, HealthCheck][] = Array.isArray(checks)
    ? checks.map((check, index) => [check.name ?? String(index), check])
    : Object.entries(checks as Record<string, HealthCheck>);
  return async () => {
    const results = await Promise.all(
      entries.map(async ([name, check]): Promise<[string, HealthResult]> => {
        try {
          return [name, await check.check()];
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          return [name, { status: 'Unhealthy', details: { error: message } }];
        }
      }),
    );
    const report: Record<string, unknown> = {};
    let unhealthy = false;
    for (const [name, result] of results) {
      report[name] = { status: result.status, ...result.details };
      if (result.status === 'Unhealthy') unhealthy = true;
    }
    if (unhealthy) throw new HealthCheckError('readiness check failed', report);
    return report;
  };
}
