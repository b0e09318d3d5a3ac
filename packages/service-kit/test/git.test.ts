import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, fetchCommit, GitError, type GitSettings, trackedFiles } from '../src/index.js';

let root: string;
let origin: string;
let mainSha: string;
let featureSha: string;
let count = 0;

const settings: GitSettings = {
  allowedSchemes: ['https', 'file'],
  env: cleanEnv(process.env),
  timeoutMs: 30_000,
  logTailBytes: 4096,
};

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' },
  }).trim();
}

function nextDir(): string {
  count += 1;
  return join(root, `checkout-${count}`);
}

async function failure(promise: Promise<unknown>): Promise<GitError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof GitError) return error;
    throw error;
  }
  throw new Error('expected a GitError');
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'service-kit-git-'));
  origin = join(root, 'origin');
  await mkdir(origin);
  git(origin, 'init', '--quiet', '--initial-branch=main');
  git(origin, 'config', 'user.email', 'test@example.com');
  git(origin, 'config', 'user.name', 'Test');
  await writeFile(join(origin, 'a.txt'), 'main\n');
  git(origin, 'add', '.');
  git(origin, 'commit', '--quiet', '-m', 'main');
  mainSha = git(origin, 'rev-parse', 'HEAD');
  git(origin, 'checkout', '--quiet', '-b', 'feature/x');
  await writeFile(join(origin, 'b.txt'), 'feature\n');
  git(origin, 'add', '.');
  git(origin, 'commit', '--quiet', '-m', 'feature');
  featureSha = git(origin, 'rev-parse', 'HEAD');
  git(origin, 'tag', 'v1');
  git(origin, 'checkout', '--quiet', 'main');
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('fetchCommit', () => {
  it('when the ref is empty, then the default branch is checked out', async () => {
    const dir = nextDir();
    const fetched = await fetchCommit(settings, `file://${origin}`, '', dir);
    expect(fetched).toEqual({ commitSha: mainSha });
    expect((await trackedFiles(settings, dir)).map(String)).toEqual(['a.txt']);
  });

  it('when the ref is a branch or a tag, then that commit is checked out', async () => {
    expect(await fetchCommit(settings, `file://${origin}`, 'feature/x', nextDir())).toEqual({
      commitSha: featureSha,
    });
    const dir = nextDir();
    expect(await fetchCommit(settings, `file://${origin}`, 'v1', dir)).toEqual({
      commitSha: featureSha,
    });
    expect(await readFile(join(dir, 'b.txt'), 'utf8')).toBe('feature\n');
  });

  it('when the ref does not exist, then the reason quotes git', async () => {
    const error = await failure(fetchCommit(settings, `file://${origin}`, 'nope', nextDir()));
    expect(error.reason).toBe("git fetch failed: couldn't find remote ref nope");
    expect(error.outcome).toEqual({ kind: 'exit', exitCode: 128 });
  });

  it('when the repository does not exist, then the reason quotes git', async () => {
    const missing = join(root, 'missing');
    const error = await failure(fetchCommit(settings, `file://${missing}`, '', nextDir()));
    expect(error.reason).toBe(
      `git fetch failed: '${missing}' does not appear to be a git repository`,
    );
  });

  it('when the scheme is not allowed, then git itself refuses the transport', async () => {
    const httpsOnly: GitSettings = { ...settings, allowedSchemes: ['https'] };
    const error = await failure(fetchCommit(httpsOnly, `file://${origin}`, '', nextDir()));
    expect(error.reason).toBe("git fetch failed: transport 'file' not allowed");
  });

  it('when the URL or ref looks like an option, then git never runs it', async () => {
    const marker = join(root, 'pwned');
    const url = `--upload-pack=touch ${marker}`;
    const error = await failure(fetchCommit(settings, url, '', nextDir()));
    expect(error.reason).toBe(`git fetch failed: strange pathname '${url}' blocked`);
    const refError = await failure(
      fetchCommit(settings, `file://${origin}`, `--upload-pack=touch ${marker}`, nextDir()),
    );
    expect(refError.reason).toBe(`invalid ref "--upload-pack=touch ${marker}"`);
    expect(existsSync(marker)).toBe(false);
  });

  it('when the ext transport is asked for, then it is refused before any command runs', async () => {
    const marker = join(root, 'pwned-ext');
    const error = await failure(fetchCommit(settings, `ext::touch ${marker}`, '', nextDir()));
    expect(error.reason).toBe("git fetch failed: transport 'ext' not allowed");
    expect(existsSync(marker)).toBe(false);
  });

  it('when the service is shutting down, then git is killed and the error is not a GitError', async () => {
    const controller = new AbortController();
    controller.abort();
    const aborted: GitSettings = { ...settings, signal: controller.signal };
    const attempt = fetchCommit(aborted, `file://${origin}`, '', nextDir());
    await expect(attempt).rejects.toThrow('git init interrupted by shutdown');
    await expect(attempt).rejects.not.toBeInstanceOf(GitError);
  });
});
