import { setTimeout as sleep } from 'node:timers/promises';

/** The fields of GET /runs/:runId the tests read. */
export interface Run {
  runId: string;
  repoUrl: string;
  ref: string;
  status: string;
  timeline: { event: string; at: string }[];
  build?: Record<string, unknown>;
  run?: Record<string, unknown>;
  index?: Record<string, unknown>;
  failure?: { stage: string; reason: string };
}

/** POST /runs with a raw body; resolves with the status and the parsed answer. */
export async function postRun(
  baseUrl: string,
  body: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${baseUrl}/runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Requests a run and returns its id; throws unless the answer is 202. */
export async function requestRun(baseUrl: string, repoUrl: string, ref?: string): Promise<string> {
  const answer = await postRun(
    baseUrl,
    JSON.stringify(ref === undefined ? { repoUrl } : { repoUrl, ref }),
  );
  if (answer.status !== 202)
    throw new Error(`POST /runs answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  return String(answer.body.runId);
}

/** GET /runs/:runId. */
export async function getRun(baseUrl: string, runId: string): Promise<Run> {
  const response = await fetch(`${baseUrl}/runs/${runId}`, { signal: AbortSignal.timeout(10_000) });
  if (response.status !== 200) throw new Error(`GET /runs/${runId} answered ${response.status}`);
  return (await response.json()) as Run;
}

/**
 * Polls until the run has its outcome and its index; throws after
 * `timeoutMs` with the last state seen, so a hang fails with evidence.
 */
export async function waitForDone(
  baseUrl: string,
  runId: string,
  timeoutMs = 90_000,
): Promise<Run> {
  const deadline = Date.now() + timeoutMs;
  let run: Run | undefined;
  while (Date.now() < deadline) {
    run = await getRun(baseUrl, runId);
    const final = run.status === 'succeeded' || run.status === 'failed';
    if (final && run.index !== undefined) return run;
    await sleep(200);
  }
  throw new Error(`run ${runId} not done in ${timeoutMs} ms; last seen: ${JSON.stringify(run)}`);
}

/** Polls `probe` until it returns true; throws after `timeoutMs` naming `what`. */
export async function eventually(
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}`);
}
