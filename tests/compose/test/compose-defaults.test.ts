import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../src/test-stack.js';

// The defaults docker-compose.yml falls back on, read from the file itself.

/**
 * What a service's SIGTERM handling takes besides the drain: terminus waits
 * up to 5 s for open HTTP requests, a consumer's blocking XREADGROUP (BLOCK
 * 5 s) gets 2 s more to end when Redis cannot be asked to unblock it, and
 * QUIT waits up to 2 s. Measured: a builder stopped mid-build with Redis down
 * exits after 32 s, and Docker killed it (137) at the former 30 s default.
 */
const SHUTDOWN_BEYOND_DRAIN_MS = 5_000 + 5_000 + 2_000 + 2_000;

async function composeFile(): Promise<string> {
  return readFile(join(REPO_ROOT, 'docker-compose.yml'), 'utf8');
}

/** The `:-` default of `${name:-default}` in docker-compose.yml. */
async function composeDefault(name: string): Promise<string | undefined> {
  const pattern = new RegExp(`\\$\\{${name}:-([^}]*)\\}`);
  return pattern.exec(await composeFile())?.[1];
}

/** `NAME=value` lines of .env.example, comments left out. */
async function exampleSettings(): Promise<[string, string][]> {
  const text = await readFile(join(REPO_ROOT, '.env.example'), 'utf8');
  return text
    .split('\n')
    .filter((line) => /^[A-Z_]+=/.test(line))
    .map((line) => {
      const at = line.indexOf('=');
      return [line.slice(0, at), line.slice(at + 1)];
    });
}

describe('compose defaults', () => {
  it('when compose stops a service, then its grace period outlasts the drain and the rest of the shutdown', async () => {
    const grace = await composeDefault('STOP_GRACE_PERIOD');
    const drainMs = Number(await composeDefault('SHUTDOWN_TIMEOUT_MS'));

    expect(grace).toMatch(/^\d+s$/);
    expect(Number.parseInt(grace ?? '', 10) * 1_000).toBeGreaterThan(
      drainMs + SHUTDOWN_BEYOND_DRAIN_MS,
    );
  });

  it('when .env.example shows a value, then it is the default docker-compose.yml uses', async () => {
    const settings = await exampleSettings();
    const defaults: [string, string | undefined][] = [];
    for (const [name] of settings) defaults.push([name, await composeDefault(name)]);

    expect(settings.length).toBe(10);
    expect(defaults).toEqual(settings);
  });
});
