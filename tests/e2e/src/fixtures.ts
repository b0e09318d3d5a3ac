import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGitRepo } from '@reporunner/service-kit/testing';

/** A Node project whose build writes dist/out.txt and whose tests check it, and check the env. */
export const NODE_PASSING: Record<string, string> = {
  'package.json': `${JSON.stringify(
    {
      name: 'node-passing',
      version: '1.0.0',
      private: true,
      scripts: { build: 'node build.js', test: 'node test.js' },
    },
    null,
    2,
  )}\n`,
  'package-lock.json': `${JSON.stringify(
    {
      name: 'node-passing',
      version: '1.0.0',
      lockfileVersion: 3,
      requires: true,
      packages: { '': { name: 'node-passing', version: '1.0.0' } },
    },
    null,
    2,
  )}\n`,
  'build.js': [
    "const fs = require('node:fs');",
    "fs.mkdirSync('dist', { recursive: true });",
    "fs.writeFileSync('dist/out.txt', 'built');",
    "console.log('build done');",
    '',
  ].join('\n'),
  'test.js': [
    "const fs = require('node:fs');",
    "if (fs.readFileSync('dist/out.txt', 'utf8') !== 'built') process.exit(3);",
    "if ('REDIS_URL' in process.env) { console.log('REDIS_URL leaked'); process.exit(4); }",
    "console.log('tests passed, environment clean');",
    '',
  ].join('\n'),
  'README.md': '# node-passing\n\nA fixture.\n',
};

/** Writes a script that starts a child which sleeps forever and records both pids. */
function spawnsChild(pidFile: string, then: string): string {
  return [
    "const { spawn } = require('node:child_process');",
    "const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });",
    `require('node:fs').writeFileSync(${JSON.stringify(pidFile)}, process.pid + ' ' + child.pid);`,
    then,
    '',
  ].join('\n');
}

/** The build fails with exit code 2 after starting a child that would linger. */
export function buildFailing(pidFile: string): Record<string, string> {
  return {
    'package.json': `${JSON.stringify({ name: 'build-failing', version: '1.0.0', scripts: { build: 'node build.js', test: 'node -e 0' } })}\n`,
    'build.js': spawnsChild(pidFile, "console.error('compile error'); process.exit(2);"),
  };
}

/** Builds fine (nothing to build); the tests fail with exit code 1 after starting a child. */
export function testsFailing(pidFile: string): Record<string, string> {
  return {
    'reporunner.json': `${JSON.stringify({ run: ['node', 'test.js'] })}\n`,
    'test.js': spawnsChild(pidFile, "console.log('1 failing'); process.exit(1);"),
  };
}

/** The build never ends: a parent and a child that sleep forever. */
export function buildHanging(pidFile: string): Record<string, string> {
  return {
    'reporunner.json': `${JSON.stringify({ build: ['node', 'hang.js'], run: ['node', '-e', '0'] })}\n`,
    'hang.js': spawnsChild(pidFile, 'setInterval(() => {}, 1000);'),
  };
}

/** Creates the repository `name` under `root` and returns its path. */
export async function repo(
  root: string,
  name: string,
  files: Record<string, string>,
): Promise<string> {
  const dir = join(root, 'repos', name);
  await createGitRepo(dir, files);
  return dir;
}

/** Lines of a text, counted as the indexer does. */
export function lineCount(text: string): number {
  if (text === '') return 0;
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}

/** The pids a fixture wrote. */
export function readPids(pidFile: string): number[] {
  return readFileSync(pidFile, 'utf8').split(' ').map(Number);
}

/** True while `pid` runs; a zombie (killed, not yet reaped) runs nothing. */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** A build that takes about `ms` milliseconds, then succeeds; the run succeeds too. */
export function slowBuild(ms: number): Record<string, string> {
  return {
    'reporunner.json': `${JSON.stringify({ build: ['node', 'build.js'], run: ['node', '-e', '0'] })}\n`,
    'build.js': `setTimeout(() => console.log('slow build done'), ${ms});\n`,
  };
}
