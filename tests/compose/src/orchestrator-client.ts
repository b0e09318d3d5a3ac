/** Statuses a run can have (issue 4); the last two are final. */
export const FINAL_STATUSES = ['succeeded', 'failed'] as const;

/** The parts of `GET /runs/:runId` the compose test reads. */
export interface RunView {
  runId: string;
  repoUrl: string;
  status: string;
  failure?: { stage?: string; reason?: string };
  timeline?: unknown[];
  build?: Record<string, unknown>;
  run?: Record<string, unknown>;
  index?: Record<string, unknown>;
}

/** An answer of the orchestrator that the test did not expect. */
export class UnexpectedResponseError extends Error {
  override readonly name = 'UnexpectedResponseError';
}

/** The orchestrator's HTTP API as published on the host's loopback. */
export class OrchestratorClient {
  constructor(readonly baseUrl: string) {}

  /** `POST /runs`; returns the new run id (the answer must be 202). */
  async requestRun(repoUrl: string, ref?: string): Promise<string> {
    const body = ref === undefined ? { repoUrl } : { repoUrl, ref };
    const response = await fetch(`${this.baseUrl}/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    if (response.status !== 202) {
      throw new UnexpectedResponseError(`POST /runs answered ${response.status}: ${text}`);
    }
    const answer = JSON.parse(text) as { runId?: unknown; status?: unknown };
    if (typeof answer.runId !== 'string' || answer.status !== 'requested') {
      throw new UnexpectedResponseError(`POST /runs answered an unexpected body: ${text}`);
    }
    return answer.runId;
  }

  /** `GET /runs/:runId`; undefined for 404. */
  async getRun(runId: string): Promise<RunView | undefined> {
    const response = await fetch(`${this.baseUrl}/runs/${encodeURIComponent(runId)}`, {
      signal: AbortSignal.timeout(10_000),
    });
    if (response.status === 404) return undefined;
    const text = await response.text();
    if (response.status !== 200) {
      throw new UnexpectedResponseError(`GET /runs/${runId} answered ${response.status}: ${text}`);
    }
    return JSON.parse(text) as RunView;
  }

  /** `GET /health/ready` of the orchestrator: true when it answers 200. */
  async isReady(): Promise<boolean> {
    const response = await fetch(`${this.baseUrl}/health/ready`, {
      signal: AbortSignal.timeout(5_000),
    });
    await response.body?.cancel();
    return response.ok;
  }
}

/** True when a run has reached `succeeded` or `failed`. */
export function isFinal(run: RunView | undefined): run is RunView {
  return run !== undefined && (FINAL_STATUSES as readonly string[]).includes(run.status);
}
