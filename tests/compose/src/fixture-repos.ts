import { chmod, chown, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from './compose-project.js';

/** uid and gid of the `node` user the images run as. */
export const IMAGE_USER = { uid: 1000, gid: 1000 };

/** A fixture repository: its files, committed on `main`. */
export interface FixtureRepo {
  name: string;
  files: Record<string, string>;
}

/**
 * A Node project whose build and tests pass, with no dependencies and a
 * lockfile, so the builder's npm convention (`npm ci`, `npm run build`) and
 * the runner's `npm test` run offline.
 */
export const PASSING_NODE: FixtureRepo = {
  name: 'passing-node',
  files: {
    'package.json': `${JSON.stringify(
      {
        name: 'passing-node',
        version: '1.0.0',
        private: true,
        scripts: {
          build: 'node build.js',
          test: 'node test.js',
        },
      },
      null,
      2,
    )}\n`,
    'package-lock.json': `${JSON.stringify(
      {
        name: 'passing-node',
        version: '1.0.0',
        lockfileVersion: 3,
        requires: true,
        packages: { '': { name: 'passing-node', version: '1.0.0' } },
      },
      null,
      2,
    )}\n`,
    'build.js': [
      "const { mkdirSync, writeFileSync } = require('node:fs');",
      "mkdirSync('out', { recursive: true });",
      "writeFileSync('out/answer.txt', String(6 * 7));",
      "console.log('built out/answer.txt');",
      '',
    ].join('\n'),
    'test.js': [
      "const { readFileSync } = require('node:fs');",
      "const answer = readFileSync('out/answer.txt', 'utf8');",
      "if (answer !== '42') { console.error('wrong answer', answer); process.exit(1); }",
      "console.log('1 test passed');",
      '',
    ].join('\n'),
  },
};

/** A Makefile project that builds and whose `make test` fails. */
export const FAILING_MAKE: FixtureRepo = {
  name: 'failing-make',
  files: {
    Makefile: [
      'build:',
      '\t@echo building',
      '',
      'test:',
      '\t@echo "1 test failed: expected 2, got 3"',
      '\t@exit 3',
      '',
    ].join('\n'),
    'README.md': '# failing-make\n\nA fixture whose tests fail.\n',
  },
};

/**
 * A project whose build takes a few seconds (`reporunner.json`), so a test can
 * stop the stack while the build is in flight.
 */
export const SLOW_BUILD: FixtureRepo = {
  name: 'slow-build',
  files: {
    'reporunner.json': `${JSON.stringify(
      { build: ['sh', '-c', 'sleep 6 && echo slow build done'], run: ['true'] },
      null,
      2,
    )}\n`,
  },
};

/**
 * A project whose build takes 20 s, long enough to kill a builder in the
 * middle of it however slowly the kill command starts.
 */
export const LONG_BUILD: FixtureRepo = {
  name: 'long-build',
  files: {
    'reporunner.json': `${JSON.stringify(
      { build: ['sh', '-c', 'sleep 20 && echo long build done'], run: ['true'] },
      null,
      2,
    )}\n`,
  },
};

/**
 * Creates each fixture as a git repository under `root` and makes the tree
 * readable by the images' user. git refuses to read a repository owned by
 * another user ("dubious ownership") and the services switch off every git
 * config that could make an exception, so when the test runs as root the
 * tree is handed to uid 1000.
 */
export async function createFixtureRepos(
  root: string,
  fixtures: readonly FixtureRepo[],
): Promise<void> {
  for (const fixture of fixtures) {
    const dir = join(root, fixture.name);
    await mkdir(dir, { recursive: true });
    for (const [path, text] of Object.entries(fixture.files)) {
      await writeFile(join(dir, path), text);
    }
    const git = (args: string[]) => runCommand(['git', '-C', dir, ...args], { timeoutMs: 30_000 });
    await git(['init', '--quiet', '--initial-branch=main']);
    await git(['add', '--all']);
    await git([
      '-c',
      'user.name=RepoRunner compose test',
      '-c',
      'user.email=compose-test@reporunner.invalid',
      '-c',
      'commit.gpgsign=false',
      'commit',
      '--quiet',
      '--message',
      `${fixture.name} fixture`,
    ]);
  }
  await shareWithImageUser(root);
}

async function shareWithImageUser(root: string): Promise<void> {
  const uid = process.getuid?.();
  if (uid === IMAGE_USER.uid) return;
  if (uid !== 0) {
    throw new Error(
      `the fixture repositories must belong to uid ${IMAGE_USER.uid} (the images' node user) ` +
        `for git to read them, and this test runs as uid ${uid}: run it as root or as uid 1000`,
    );
  }
  await chownTree(root);
}

async function chownTree(path: string): Promise<void> {
  await chown(path, IMAGE_USER.uid, IMAGE_USER.gid);
  const info = await stat(path);
  if (!info.isDirectory()) return;
  await chmod(path, 0o755);
  for (const entry of await readdir(path)) await chownTree(join(path, entry));
}
