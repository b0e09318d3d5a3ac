import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, describeOutcome, runProcess } from '../src/index.js';

const node = process.execPath;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'service-kit-process-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// A killed process whose parent is gone stays a zombie until its new parent
// reaps it (PID 1 in a container may never do); a zombie runs nothing.
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function waitUntilDead(pids: number[]): Promise<number[]> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    if (!pids.some(alive)) return [];
    await sleep(20);
  }
  return pids.filter(alive);
}

const env = cleanEnv(process.env);

describe('runProcess', () => {
  it('when the command exits, then its code and combined output are returned', async () => {
    const result = await runProcess({
      argv: [node, '-e', 'console.log("out"); console.error("err"); process.exit(3)'],
      cwd: dir,
      env,
      timeoutMs: 10_000,
      logTailBytes: 1024,
    });
    expect(result.outcome).toEqual({ kind: 'exit', exitCode: 3 });
    expect(result.logTail.split('\n').sort()).toEqual(['', 'err', 'out']);
    expect(describeOutcome(result.outcome, 10_000)).toBe('exit code 3');
  });

  it('when the command hangs with children, then the timeout kills the whole tree', async () => {
    const pidFile = join(dir, 'tree.pids');
    const script = `
      const { spawn } = require('node:child_process');
      const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
      require('node:fs').writeFileSync(${JSON.stringify(pidFile)}, process.pid + ' ' + child.pid);
      setInterval(() => {}, 1000);
    `;
    const result = await runProcess({
      argv: [node, '-e', script],
      cwd: dir,
      env,
      timeoutMs: 1_000,
      logTailBytes: 1024,
    });
    expect(result.outcome).toEqual({ kind: 'timeout' });
    expect(describeOutcome(result.outcome, 1_000)).toBe('timed out after 1s');
    const pids = (await readFile(pidFile, 'utf8')).split(' ').map(Number);
    expect(pids).toHaveLength(2);
    expect(await waitUntilDead(pids)).toEqual([]);
  });

  it('when the leader exits leaving a background child, then the child is killed too', async () => {
    const pidFile = join(dir, 'orphan.pid');
    const script = `
      const { spawn } = require('node:child_process');
      const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
      require('node:fs').writeFileSync(${JSON.stringify(pidFile)}, String(child.pid));
      child.unref();
    `;
    const result = await runProcess({
      argv: [node, '-e', script],
      cwd: dir,
      env,
      timeoutMs: 10_000,
      logTailBytes: 1024,
    });
    expect(result.outcome).toEqual({ kind: 'exit', exitCode: 0 });
    const pid = Number(await readFile(pidFile, 'utf8'));
    expect(await waitUntilDead([pid])).toEqual([]);
  });

  it('when the output is large, then only the capped tail is kept', async () => {
    const result = await runProcess({
      argv: [node, '-e', 'for (let i = 1; i <= 100000; i++) console.log("line " + i)'],
      cwd: dir,
      env,
      timeoutMs: 10_000,
      logTailBytes: 64,
    });
    expect(result.outcome).toEqual({ kind: 'exit', exitCode: 0 });
    expect(result.logTail).toMatch(/^\[\.\.\. \d+ bytes dropped \.\.\.\]\n/);
    expect(result.logTail.endsWith('line 99999\nline 100000\n')).toBe(true);
    expect(result.logTail.length).toBeLessThan(64 + 40);
  });

  it('when arguments hold shell syntax, then they reach the program verbatim', async () => {
    const result = await runProcess({
      argv: [
        node,
        '-e',
        'console.log(JSON.stringify(process.argv.slice(1)))',
        '$(id)',
        '; rm -rf /',
      ],
      cwd: dir,
      env,
      timeoutMs: 10_000,
      logTailBytes: 1024,
    });
    expect(JSON.parse(result.logTail)).toEqual(['$(id)', '; rm -rf /']);
  });

  it('when the service has secrets in its environment, then the command does not see them', async () => {
    const clean = cleanEnv({
      PATH: process.env.PATH,
      HOME: '/home/x',
      REDIS_URL: 'redis://:secret@127.0.0.1:6379',
      AWS_SECRET_ACCESS_KEY: 'k',
    });
    const result = await runProcess({
      argv: [node, '-e', 'console.log(JSON.stringify(Object.keys(process.env).sort()))'],
      cwd: dir,
      env: clean,
      timeoutMs: 10_000,
      logTailBytes: 4096,
    });
    expect(JSON.parse(result.logTail)).toEqual([
      'CI',
      'HOME',
      'NO_COLOR',
      'PATH',
      'npm_config_audit',
      'npm_config_fund',
      'npm_config_update_notifier',
    ]);
  });

  it('when the program does not exist, then the result says it could not start', async () => {
    const result = await runProcess({
      argv: ['reporunner-no-such-program'],
      cwd: dir,
      env,
      timeoutMs: 10_000,
      logTailBytes: 1024,
    });
    expect(result.spawnError).toBe('cannot start reporunner-no-such-program: ENOENT');
  });

  it('when an argument holds a NUL byte, then the result says it could not start', async () => {
    // spawn() throws instead of emitting 'error' for these; a reporunner.json
    // can hold "\u0000", and a throw would make the build be retried.
    const result = await runProcess({
      argv: ['echo', 'a\u0000b'],
      cwd: dir,
      env,
      timeoutMs: 10_000,
      logTailBytes: 1024,
    });
    expect(result.outcome).toEqual({ kind: 'exit', exitCode: 127 });
    expect(result.spawnError).toBe('cannot start echo: ERR_INVALID_ARG_VALUE');
  });

  it('when aborted, then the process group is killed', async () => {
    const controller = new AbortController();
    const running = runProcess({
      argv: [node, '-e', 'setInterval(() => {}, 1000)'],
      cwd: dir,
      env,
      timeoutMs: 60_000,
      logTailBytes: 1024,
      signal: controller.signal,
    });
    controller.abort();
    expect((await running).outcome).toEqual({ kind: 'signal', signal: 'SIGKILL' });
  });
});
