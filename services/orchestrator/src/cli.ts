#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { FollowError, followRun } from './follow-run.js';

const USAGE = `usage: reporunner run <repoUrl> [ref] [--url <orchestrator>] [--timeout-ms <ms>]

Requests a run and follows it, printing each lifecycle step as it happens.
Exits 0 when the run succeeds, 1 when it fails, 2 when it cannot be asked.
<repoUrl> may be an https URL, a file URL or a local directory (when the
orchestrator allows file). The orchestrator URL comes from --url, else
ORCHESTRATOR_URL, else http://127.0.0.1:3000.`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      'timeout-ms': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, target, ref] = positionals;
  if (values.help || command !== 'run' || target === undefined || positionals.length > 3) {
    process.stderr.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const baseUrl = (values.url ?? process.env.ORCHESTRATOR_URL ?? 'http://127.0.0.1:3000').replace(
    /\/+$/,
    '',
  );
  // A local directory is sent as an absolute path, so `reporunner run .` works;
  // under `pnpm reporunner`, INIT_CWD is where the user typed the command.
  const local = resolve(process.env.INIT_CWD ?? process.cwd(), target);
  const repoUrl = !target.includes('://') && existsSync(local) ? local : target;
  const timeoutMs = values['timeout-ms'] === undefined ? undefined : Number(values['timeout-ms']);

  let response: Response;
  try {
    response = await fetch(`${baseUrl}/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ref === undefined ? { repoUrl } : { repoUrl, ref }),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    throw new FollowError(
      `cannot reach the orchestrator at ${baseUrl}: ${(error as Error).message}`,
    );
  }
  const body = (await response.json()) as { runId?: string; error?: string };
  if (response.status !== 202 || body.runId === undefined) {
    process.stderr.write(
      `request refused (${response.status}): ${body.error ?? 'no reason given'}\n`,
    );
    return 2;
  }
  process.stdout.write(`run ${body.runId}\n`);

  const run = await followRun({
    baseUrl,
    runId: body.runId,
    print: (line) => process.stdout.write(`${line}\n`),
    ...(timeoutMs === undefined || !Number.isFinite(timeoutMs) ? {} : { timeoutMs }),
  });
  return run.status === 'succeeded' ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const message =
      error instanceof FollowError || error instanceof Error ? error.message : String(error);
    process.stderr.write(`reporunner: ${message}\n`);
    process.exitCode = 2;
  },
);
