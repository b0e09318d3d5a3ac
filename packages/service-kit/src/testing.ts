import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * Test helper: creates a git repository at `dir` with `files` (path → text)
 * committed on `main`, and returns the commit SHA. The user's and system's git
 * config are ignored so the result is the same on every machine.
 */
export async function createGitRepo(dir: string, files: Record<string, string>): Promise<string> {
  await mkdir(dir, { recursive: true });
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  const git = (...args: string[]) =>
    execFileSync('git', args, {
      cwd: dir,
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH ?? '',
        HOME: dir,
        GIT_CONFIG_GLOBAL: '/dev/null',
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_AUTHOR_NAME: 'RepoRunner Test',
        GIT_AUTHOR_EMAIL: 'test@reporunner.invalid',
        GIT_COMMITTER_NAME: 'RepoRunner Test',
        GIT_COMMITTER_EMAIL: 'test@reporunner.invalid',
      },
    }).trim();
  git('init', '--quiet', '--initial-branch=main');
  git('add', '--all');
  git('commit', '--quiet', '--message', 'fixture');
  return git('rev-parse', 'HEAD');
}
