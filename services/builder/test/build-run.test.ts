import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Message } from '@bufbuild/protobuf';
import { create } from '@bufbuild/protobuf';
import {
  type BuildFailed,
  BuildStage,
  type BuildSucceeded,
  RunRequestedSchema,
} from '@reporunner/contracts';
import { cleanEnv, createLogger } from '@reporunner/service-kit';
import { createGitRepo } from '@reporunner/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BuildDependencies, buildRun } from '../src/build-run.js';

let root: string;
let published: Message[] = [];
let deps: BuildDependencies;
const logger = createLogger('builder', { level: 'silent' });

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'builder-test-'));
  deps = {
    workspacesDir: join(root, 'workspaces'),
    allowedSchemes: ['https', 'file'],
    commandTimeoutMs: 30_000,
    logTailBytes: 4096,
    env: cleanEnv(process.env),
    worker: 'builder-test',
    publish: async (event) => {
      published.push(event);
    },
  };
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function build(
  runId: string,
  repo: string,
  ref = '',
  overrides: Partial<BuildDependencies> = {},
) {
  published = [];
  const event = create(RunRequestedSchema, { runId, repoUrl: repo, ref });
  await buildRun({ ...deps, ...overrides }, event, logger);
  return published;
}

function types(events: Message[]): string[] {
  return events.map((event) => event.$typeName.replace('reporunner.events.v1.', ''));
}

// A killed process may linger as a zombie until reaped; a zombie runs nothing.
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('buildRun', () => {
  it('when a Node project builds, then BuildSucceeded names the commit and the workspace holds the output', async () => {
    const repo = join(root, 'node-ok');
    const sha = await createGitRepo(repo, {
      'package.json': JSON.stringify({
        name: 'node-ok',
        version: '1.0.0',
        scripts: { build: 'node build.js', test: 'node test.js' },
      }),
      'build.js':
        "require('node:fs').writeFileSync('built.txt', 'yes'); console.log('built it');\n",
      'test.js': 'process.exit(0);\n',
    });
    const events = await build('run-ok', repo);
    expect(types(events)).toEqual(['BuildStarted', 'BuildSucceeded']);
    const succeeded = events[1] as BuildSucceeded;
    expect(succeeded).toMatchObject({
      runId: 'run-ok',
      commitSha: sha,
      workspace: 'run-ok',
      convention: 'npm',
    });
    expect(succeeded.logTail).toContain('$ npm install\n');
    expect(succeeded.logTail).toContain('$ npm run build\n');
    expect(succeeded.logTail).toContain('built it');
    expect(await readFile(join(deps.workspacesDir, 'run-ok', 'built.txt'), 'utf8')).toBe('yes');
  });

  it('when the build command fails, then BuildFailed says build, the exit code, and the workspace is removed', async () => {
    const repo = join(root, 'build-fails');
    await createGitRepo(repo, {
      'reporunner.json': JSON.stringify({
        build: ['node', '-e', 'console.error("broken"); process.exit(2)'],
      }),
    });
    const events = await build('run-build-fails', repo);
    expect(types(events)).toEqual(['BuildStarted', 'BuildFailed']);
    const failed = events[1] as BuildFailed;
    expect(failed.stage).toBe(BuildStage.BUILD);
    expect(failed.reason).toBe('build failed: exit code 2');
    expect(failed.exit?.outcome).toEqual({ case: 'exitCode', value: 2 });
    expect(failed.logTail).toContain('broken');
    expect(existsSync(join(deps.workspacesDir, 'run-build-fails'))).toBe(false);
  });

  it('when the build hangs, then it times out and its whole process tree is gone', async () => {
    const repo = join(root, 'build-hangs');
    const pidFile = join(root, 'hang.pids');
    const hang = `
      const { spawn } = require('node:child_process');
      const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
      require('node:fs').writeFileSync(${JSON.stringify(pidFile)}, process.pid + ' ' + child.pid);
      setInterval(() => {}, 1000);
    `;
    await createGitRepo(repo, {
      'reporunner.json': JSON.stringify({ build: ['node', 'hang.js'] }),
      'hang.js': hang,
    });
    const events = await build('run-hangs', repo, '', { commandTimeoutMs: 1500 });
    const failed = events[1] as BuildFailed;
    expect(failed.reason).toBe('build timed out after 1.5s');
    expect(failed.exit?.outcome).toEqual({ case: 'timedOut', value: true });
    const pids = (await readFile(pidFile, 'utf8')).split(' ').map(Number);
    let living = pids;
    for (let attempt = 0; attempt < 50 && living.length > 0; attempt += 1) {
      await sleep(20);
      living = pids.filter(alive);
    }
    expect(living).toEqual([]);
  });

  it("when the ref does not exist, then BuildFailed says clone with git's reason", async () => {
    const repo = join(root, 'node-ok');
    const events = await build('run-no-ref', repo, 'no-such-branch');
    const failed = events[1] as BuildFailed;
    expect(failed.stage).toBe(BuildStage.CLONE);
    expect(failed.reason).toBe("git fetch failed: couldn't find remote ref no-such-branch");
  });

  it('when the scheme is not allowed here, then the clone is refused before git runs', async () => {
    const events = await build('run-refused', join(root, 'node-ok'), '', {
      allowedSchemes: ['https'],
    });
    const failed = events[1] as BuildFailed;
    expect(failed.stage).toBe(BuildStage.CLONE);
    expect(failed.reason).toBe('repository URL refused: local paths are not allowed here');
  });

  it('when reporunner.json is invalid, then BuildFailed says detect', async () => {
    const repo = join(root, 'bad-config');
    await createGitRepo(repo, { 'reporunner.json': '{"build": "make"}' });
    const events = await build('run-bad-config', repo);
    const failed = events[1] as BuildFailed;
    expect(failed.stage).toBe(BuildStage.DETECT);
    expect(failed.reason).toBe(
      'reporunner.json: "build" must be an array of non-empty strings, for example ["npm", "test"]',
    );
  });

  it('when a build argument holds a NUL byte, then BuildFailed says build instead of a retry', async () => {
    const repo = join(root, 'nul-argument');
    await createGitRepo(repo, { 'reporunner.json': '{"build": ["echo", "a\\u0000b"]}' });
    const events = await build('run-nul-argument', repo);
    expect(types(events)).toEqual(['BuildStarted', 'BuildFailed']);
    const failed = events[1] as BuildFailed;
    expect(failed.stage).toBe(BuildStage.BUILD);
    expect(failed.reason).toBe('build failed: cannot start echo: ERR_INVALID_ARG_VALUE');
  });

  it('when the run id could leave the workspaces directory, then nothing is touched', async () => {
    const events = await build('../escape', join(root, 'node-ok'));
    expect((events[1] as BuildFailed).reason).toBe('run id is not a usable workspace name');
  });

  it('when publishing fails, then the error is thrown so the entry is retried', async () => {
    await expect(
      buildRun(
        {
          ...deps,
          publish: async () => {
            throw new Error('redis down');
          },
        },
        create(RunRequestedSchema, { runId: 'run-x', repoUrl: join(root, 'node-ok') }),
        logger,
      ),
    ).rejects.toThrow('redis down');
  });
});
