import { setTimeout as sleep } from 'node:timers/promises';
import { describeEvent, tailLines } from './run-printer.js';
import type { RunView } from './run-view.js';

/** Options of followRun. */
export interface FollowOptions {
  baseUrl: string;
  runId: string;
  print: (line: string) => void;
  /** Give up after this long; default 30 min. */
  timeoutMs?: number;
  pollMs?: number;
  /** After the outcome, how long to wait for the index; default 15 s. */
  indexGraceMs?: number;
}

/** Raised when the orchestrator cannot be asked or answers oddly. */
export class FollowError extends Error {
  override readonly name = 'FollowError';
}

/**
 * Polls GET /runs/:runId and prints each lifecycle event once, as it appears,
 * until the run has an outcome (and its index, or the grace period passed).
 * Resolves with the final run.
 */
export async function followRun(options: FollowOptions): Promise<RunView> {
  const pollMs = options.pollMs ?? 250;
  const deadline = Date.now() + (options.timeoutMs ?? 30 * 60_000);
  const printed = new Set<string>();
  let finalSince: number | undefined;

  while (Date.now() < deadline) {
    const run = await getRun(options.baseUrl, options.runId);
    if (run !== undefined) {
      for (const entry of run.timeline) {
        if (printed.has(entry.event)) continue;
        printed.add(entry.event);
        options.print(`${entry.at.slice(11, 23)}  ${describeEvent(entry.event, run)}`);
      }
      const final = run.status === 'succeeded' || run.status === 'failed';
      if (final) finalSince ??= Date.now();
      const indexDone = run.index !== undefined;
      if (
        final &&
        (indexDone || Date.now() - (finalSince ?? 0) > (options.indexGraceMs ?? 15_000))
      ) {
        printOutcome(run, options.print);
        return run;
      }
    }
    await sleep(pollMs);
  }
  throw new FollowError(`run ${options.runId} did not finish in time`);
}

function printOutcome(run: RunView, print: (line: string) => void): void {
  if (run.status === 'succeeded') {
    print(`run ${run.runId} succeeded`);
    return;
  }
  print(
    `run ${run.runId} failed in stage ${run.failure?.stage ?? '?'}: ${run.failure?.reason ?? ''}`,
  );
  const section = (run.failure?.stage === 'run' ? run.run : run.build) as
    | Record<string, unknown>
    | undefined;
  const tail = tailLines(section?.outputTail ?? section?.logTail);
  if (tail !== '') print(tail);
}

async function getRun(baseUrl: string, runId: string): Promise<RunView | undefined> {
  let response: Response;
  try {
    response = await fetch(`${baseUrl}/runs/${encodeURIComponent(runId)}`, {
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    throw new FollowError(
      `cannot reach the orchestrator at ${baseUrl}: ${(error as Error).message}`,
    );
  }
  if (response.status === 404) return undefined;
  if (!response.ok) throw new FollowError(`GET /runs/${runId} answered ${response.status}`);
  return (await response.json()) as RunView;
}
