import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTargets, PlanError, planProject } from '../src/index.js';

let root: string;
let count = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'service-kit-plan-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function project(files: Record<string, string>): Promise<string> {
  count += 1;
  const dir = join(root, `p${count}`);
  await mkdir(dir);
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

describe('planProject', () => {
  it('when reporunner.json is present, then it wins over package.json', async () => {
    const dir = await project({
      'reporunner.json': '{"build": ["make", "dist"], "run": ["./check.sh", "--all"]}',
      'package.json': '{"scripts": {"test": "x"}}',
    });
    expect(await planProject(dir)).toEqual({
      convention: 'reporunner.json',
      build: ['make', 'dist'],
      run: ['./check.sh', '--all'],
    });
  });

  it('when reporunner.json has a string command or an unknown key, then it is a PlanError', async () => {
    const stringCommand = await project({ 'reporunner.json': '{"run": "npm test"}' });
    await expect(planProject(stringCommand)).rejects.toThrow(
      new PlanError(
        'reporunner.json: "run" must be an array of non-empty strings, for example ["npm", "test"]',
      ),
    );
    const typo = await project({ 'reporunner.json': '{"tests": ["x"]}' });
    await expect(planProject(typo)).rejects.toThrow(
      'reporunner.json: unknown key "tests" (known: install, build, run)',
    );
  });

  it('when reporunner.json is a symlink, then it is refused without being read', async () => {
    const dir = await project({});
    await symlink('/etc/hostname', join(dir, 'reporunner.json'));
    await expect(planProject(dir)).rejects.toThrow('reporunner.json must be a regular file');
  });

  it('when package.json has build and test scripts, then npm installs, builds and tests', async () => {
    const dir = await project({
      'package.json': '{"scripts": {"build": "tsc", "test": "vitest"}}',
      'package-lock.json': '{}',
    });
    expect(await planProject(dir)).toEqual({
      convention: 'npm',
      install: ['npm', 'ci'],
      build: ['npm', 'run', 'build'],
      run: ['npm', 'test'],
    });
  });

  it('when the lockfile is pnpm or yarn, then that package manager is used', async () => {
    const pnpm = await project({
      'package.json': '{"scripts": {"test": "x"}}',
      'pnpm-lock.yaml': '',
    });
    expect(await planProject(pnpm)).toEqual({
      convention: 'pnpm',
      install: ['pnpm', 'install', '--frozen-lockfile'],
      run: ['pnpm', 'test'],
    });
    const yarn = await project({ 'package.json': '{}', 'yarn.lock': '' });
    expect(await planProject(yarn)).toEqual({ convention: 'yarn', install: ['yarn', 'install'] });
    const none = await project({ 'package.json': '{}' });
    expect(await planProject(none)).toEqual({ convention: 'npm', install: ['npm', 'install'] });
  });

  it('when the lockfile is larger than 1 MiB or a symlink, then it still picks the package manager', async () => {
    // Lockfiles of real projects are often several MiB; only their presence matters.
    const large = await project({
      'package.json': '{"scripts": {"test": "x"}}',
      'package-lock.json': `{"padding": "${'x'.repeat(2 * 1024 * 1024)}"}`,
    });
    expect(await planProject(large)).toEqual({
      convention: 'npm',
      install: ['npm', 'ci'],
      run: ['npm', 'test'],
    });
    const linked = await project({ 'package.json': '{}', 'lock.yaml': '' });
    await symlink('lock.yaml', join(linked, 'pnpm-lock.yaml'));
    expect(await planProject(linked)).toEqual({
      convention: 'pnpm',
      install: ['pnpm', 'install', '--frozen-lockfile'],
    });
  });

  it('when package.json or reporunner.json starts with a byte order mark, then it is read as npm reads it', async () => {
    const node = await project({ 'package.json': '\ufeff{"scripts": {"test": "x"}}' });
    expect(await planProject(node)).toEqual({
      convention: 'npm',
      install: ['npm', 'install'],
      run: ['npm', 'test'],
    });
    const config = await project({ 'reporunner.json': '\ufeff{"run": ["make", "check"]}' });
    expect(await planProject(config)).toEqual({
      convention: 'reporunner.json',
      run: ['make', 'check'],
    });
  });

  it('when package.json is not JSON, then it is a PlanError', async () => {
    const dir = await project({ 'package.json': '{' });
    await expect(planProject(dir)).rejects.toBeInstanceOf(PlanError);
  });

  it('when there is a Makefile, then its build and test targets are used', async () => {
    const dir = await project({
      Makefile: 'CC := gcc\nall: app\napp: main.c\n\t$(CC) -o app main.c\ntest: app\n\t./app\n',
    });
    expect(await planProject(dir)).toEqual({
      convention: 'make',
      build: ['make', 'all'],
      run: ['make', 'test'],
    });
  });

  it('when nothing is recognised, then there is nothing to build or run', async () => {
    expect(await planProject(await project({ 'README.md': '# hi' }))).toEqual({
      convention: 'none',
    });
  });
});

describe('makeTargets', () => {
  it('when a Makefile has variables, rules and double-colon rules, then only targets are listed', () => {
    const text = 'X = 1\nY := 2\nZ ?= 3\nbuild test: deps\nclean::\n\trm -rf out\n.PHONY: test\n';
    expect([...makeTargets(text)].sort()).toEqual(['.PHONY', 'build', 'clean', 'test']);
  });
});
