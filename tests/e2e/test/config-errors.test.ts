import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SERVICES, type ServiceName } from '../src/service-process.js';

function startWith(
  name: ServiceName,
  env: Record<string, string>,
): Promise<{ code: number | null; stderr: string }> {
  const main = fileURLToPath(import.meta.resolve(`@reporunner/${name}`));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [main], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('exit', (code) => resolve({ code, stderr }));
  });
}

describe('a service started with a bad setting', () => {
  it.each(SERVICES)(
    'when %s gets a malformed REDIS_URL, then it stops with one line naming it',
    async (name) => {
      expect(await startWith(name, { REDIS_URL: 'localhost:6379' })).toEqual({
        code: 78,
        stderr: `${name}: invalid configuration: REDIS_URL: must be a redis:// or rediss:// URL, got localhost://\n`,
      });
    },
  );

  it('when the builder gets a malformed COMMAND_TIMEOUT_MS, then it stops with one line naming it', async () => {
    expect(await startWith('builder', { COMMAND_TIMEOUT_MS: 'soon' })).toEqual({
      code: 78,
      stderr:
        'builder: invalid configuration: COMMAND_TIMEOUT_MS: must be an integer, got "soon"\n',
    });
  });
});
