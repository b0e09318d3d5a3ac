import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../src/test-stack.js';

// The images install pnpm and turbo themselves, before any lockfile is there;
// these checks keep those pins in step with the ones the repository uses.

async function dockerfileArg(name: string): Promise<string | undefined> {
  const dockerfile = await readFile(join(REPO_ROOT, 'Dockerfile'), 'utf8');
  return new RegExp(`^ARG ${name}=(\\S+)$`, 'm').exec(dockerfile)?.[1];
}

async function rootManifest(): Promise<{
  packageManager: string;
  devDependencies: Record<string, string>;
}> {
  return JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8'));
}

describe('Dockerfile pins', () => {
  it('when the images install pnpm, then it is the version package.json names in packageManager', async () => {
    const { packageManager } = await rootManifest();

    expect(`pnpm@${await dockerfileArg('PNPM_VERSION')}`).toBe(packageManager);
  });

  it('when the images install turbo, then it is the version of the root devDependencies', async () => {
    const { devDependencies } = await rootManifest();

    expect(await dockerfileArg('TURBO_VERSION')).toBe(devDependencies.turbo);
  });
});
