import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort, startTestRedis, type TestRedis } from '@reporunner/testing';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICES, type ServiceName } from '../src/service-process.js';

const password = 'password-of-a-disabled-user';
let server: TestRedis;
let admin: Redis;

beforeAll(async () => {
  server = await startTestRedis();
  admin = server.client();
  // The password is right, but the user is switched off: Redis refuses AUTH.
  await admin.call('ACL', 'SETUSER', 'reporunner', 'off', `>${password}`, '~*', '&*', '+@all');
});
afterAll(async () => {
  admin?.disconnect();
  await server?.close();
});

/** Starts a service and resolves with its exit code and everything it printed. */
async function runUntilExit(name: ServiceName): Promise<{ code: number | null; output: string }> {
  const main = fileURLToPath(import.meta.resolve(`@reporunner/${name}`));
  const child = spawn(process.execPath, [main], {
    env: {
      PATH: process.env.PATH ?? '',
      REDIS_URL: `redis://reporunner:${password}@127.0.0.1:${server.port}`,
      PORT: String(await freePort()),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // A service that keeps running gets SIGTERM, exits 0 and fails the test.
    timeout: 60_000,
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, output })));
}

describe('a service whose Redis credentials are refused', () => {
  it.each(SERVICES)(
    'when %s starts as a disabled ACL user, then it exits 1 with one fatal line and never prints the password',
    async (name) => {
      const { code, output } = await runUntilExit(name);

      expect(code).toBe(1);
      expect(output).not.toContain(password);
      const fatal = output
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { msg?: string; err?: { message?: string } })
        .filter((line) => line.msg === 'start failed');
      expect(fatal.map((line) => line.err?.message)).toEqual([
        'WRONGPASS invalid username-password pair or user is disabled.',
      ]);
    },
  );
});
