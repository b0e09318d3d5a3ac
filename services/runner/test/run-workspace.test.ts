import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, type Message } from '@bufbuild/protobuf';
import {
  BuildSucceededSchema,
  type RunFailed,
  type RunStarted,
  type RunSucceeded,
} from '@reporunner/contracts';
import { cleanEnv, createLogger } from '@reporunner/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunDependencies, runWorkspace } from '../src/run-workspace.js';

let root: string;
let deps: RunDependencies;
let published: Message[] = [];
const logger = createLogger('runner', { level: 'silent' });

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'runner-test-'));
  deps = {
    workspacesDir: root,
    commandTimeoutMs: 20_000,
    logTailBytes: 4096,
    keepWorkspaces: false,
    env: cleanEnv(process.env),
    worker: 'runner-test',
    publish: async (event) => {
      published.push(event);
    },
  };
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function workspace(name: string, files: Record<string, string>): Promise<void> {
  await mkdir(join(root, name));
  for (const [path, text] of Object.entries(files)) await writeFile(join(root, name, path), text);
}

async function run(name: string, overrides: Partial<RunDependencies> = {}): Promise<Message[]> {
  published = [];
  const event = create(BuildSucceededSchema, { runId: `run-${name}`, workspace: name });
  await runWorkspace({ ...deps, ...overrides }, event, logger);
  return published;
}

function types(events: Message[]): string[] {
  return events.map((event) => event.$typeName.replace('reporunner.events.v1.', ''));
}

describe('runWorkspace', () => {
  it('when npm test passes, then RunStarted and RunSucceeded are published and the workspace removed', async () => {
    await workspace('passes', {
      'package.json': '{"scripts": {"test": "node -e \\"console.log(\'all good\')\\""}}',
    });
    const events = await run('passes');
    expect(types(events)).toEqual(['RunStarted', 'RunSucceeded']);
    expect((events[0] as RunStarted).command).toEqual(['npm', 'test']);
    expect((events[0] as RunStarted).worker).toBe('runner-test');
    expect((events[1] as RunSucceeded).exitCode).toBe(0);
    expect((events[1] as RunSucceeded).outputTail).toContain('all good');
    expect(existsSync(join(root, 'passes'))).toBe(false);
  });

  it('when the tests fail, then RunFailed has the exit code and the output tail', async () => {
    await workspace('fails', {
      'reporunner.json': JSON.stringify({
        run: ['node', '-e', 'console.log("1 failing"); process.exit(1)'],
      }),
    });
    const events = await run('fails');
    expect(types(events)).toEqual(['RunStarted', 'RunFailed']);
    const failed = events[1] as RunFailed;
    expect(failed.reason).toBe('tests failed: exit code 1');
    expect(failed.exit?.outcome).toEqual({ case: 'exitCode', value: 1 });
    expect(failed.outputTail).toBe('1 failing\n');
  });

  it('when the run command hangs, then it times out', async () => {
    await workspace('hangs', {
      'reporunner.json': JSON.stringify({ run: ['node', '-e', 'setInterval(() => {}, 1000)'] }),
    });
    const events = await run('hangs', { commandTimeoutMs: 500 });
    const failed = events[1] as RunFailed;
    expect(failed.reason).toBe('run timed out after 0.5s');
    expect(failed.exit?.outcome).toEqual({ case: 'timedOut', value: true });
  });

  it('when there is no run command, then RunFailed says how to add one', async () => {
    await workspace('nothing', { 'README.md': '# nothing to run' });
    const events = await run('nothing');
    expect(types(events)).toEqual(['RunFailed']);
    expect((events[0] as RunFailed).reason).toBe(
      'no run command: add "run" to reporunner.json, a "test" script to package.json, or a "test" target to the Makefile',
    );
  });

  it('when the workspace is missing (a redelivery after removal), then RunFailed says so', async () => {
    const events = await run('gone');
    expect(types(events)).toEqual(['RunFailed']);
    expect((events[0] as RunFailed).reason).toBe(
      'workspace "gone" not found under WORKSPACES_DIR (already run, or not shared with the builder)',
    );
  });

  it('when the workspace reference tries to leave WORKSPACES_DIR, then nothing runs', async () => {
    const events = await run('../etc');
    expect(types(events)).toEqual(['RunFailed']);
  });

  it('when KEEP_WORKSPACES is on, then the workspace stays', async () => {
    await workspace('kept', { 'reporunner.json': '{"run": ["node", "-e", "0"]}' });
    const events = await run('kept', { keepWorkspaces: true });
    expect(types(events)).toEqual(['RunStarted', 'RunSucceeded']);
    expect(existsSync(join(root, 'kept'))).toBe(true);
  });

  it('when publishing the outcome fails, then the workspace stays and the retry publishes the real outcome', async () => {
    await workspace('publish-fails', { 'reporunner.json': '{"run": ["node", "-e", "0"]}' });
    let outcomes = 0;
    const flaky: RunDependencies['publish'] = async (event) => {
      if (event.$typeName.endsWith('.RunSucceeded') && outcomes++ === 0) {
        throw new Error('redis is away');
      }
      published.push(event);
    };

    await expect(run('publish-fails', { publish: flaky })).rejects.toThrow('redis is away');
    expect(existsSync(join(root, 'publish-fails'))).toBe(true);

    const events = await run('publish-fails', { publish: flaky });
    expect(types(events)).toEqual(['RunStarted', 'RunSucceeded']);
    expect(existsSync(join(root, 'publish-fails'))).toBe(false);
  });

  it('when the program does not exist, then RunFailed says it could not start', async () => {
    await workspace('no-program', { 'reporunner.json': '{"run": ["reporunner-no-such-tool"]}' });
    const events = await run('no-program');
    expect((events[1] as RunFailed).reason).toBe('cannot start reporunner-no-such-tool: ENOENT');
  });
});
