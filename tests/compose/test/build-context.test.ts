import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../src/compose-project.js';
import { REPO_ROOT } from '../src/test-stack.js';

// What `docker build` sends with the repository's .dockerignore, seen from
// inside an image: a probe context of planted files is copied whole into a
// throwaway image and listed. Files that reach the context reach the build
// stages (turbo prune copies every workspace file), so a secret left in a
// service folder would sit in the intermediate images.

/** Files the build needs: they must reach the context. */
const SENT = [
  '.dockerignore',
  '.env.example',
  'package.json',
  'packages/lib/package.json',
  'packages/lib/src/index.ts',
  'services/demo/package.json',
  'services/demo/src/main.ts',
];

/** Secrets, installed or built output and files of no image. */
const LEFT_OUT = [
  '.env',
  '.env.local',
  '.npmrc',
  '.git/config',
  'services/demo/.env',
  'services/demo/.env.production.local',
  'services/demo/id_rsa',
  'services/demo/node_modules/left-pad/index.js',
  'services/demo/dist/main.js',
  'packages/lib/.npmrc',
  'packages/lib/.turbo/turbo-build.log',
  'packages/lib/tsconfig.tsbuildinfo',
  'deploy/id_ed25519',
  'deploy/id_ed25519.pub',
  'certs/server.pem',
  'certs/server.key',
  'certs/client.p12',
  'my-repos/app/README.md',
  'tests/compose/package.json',
  'docker-compose.override.yml',
];

const tag = `rrcontext${process.pid}${randomBytes(3).toString('hex')}:probe`;
let workDir = '';

async function baseImage(): Promise<string> {
  const dockerfile = await readFile(join(REPO_ROOT, 'Dockerfile'), 'utf8');
  const image = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1];
  if (image === undefined) throw new Error('the Dockerfile has no `ARG NODE_IMAGE=` default');
  return image;
}

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'reporunner-context-'));
  const context = join(workDir, 'context');
  for (const path of [...SENT, ...LEFT_OUT]) {
    await mkdir(dirname(join(context, path)), { recursive: true });
    await writeFile(join(context, path), `probe file ${path}\n`);
  }
  await copyFile(join(REPO_ROOT, '.dockerignore'), join(context, '.dockerignore'));

  // Outside the context, so the probe's own Dockerfile is not among the files listed.
  const dockerfile = join(workDir, 'Dockerfile');
  await writeFile(dockerfile, `FROM ${await baseImage()}\nCOPY . /context\n`);
  await runCommand(
    ['docker', 'build', '--quiet', '--force-rm', '--tag', tag, '--file', dockerfile, context],
    { timeoutMs: 5 * 60_000 },
  );
});

afterAll(async () => {
  await runCommand(['docker', 'image', 'rm', '--force', tag], { timeoutMs: 60_000 }).catch(
    () => {},
  );
  if (workDir !== '') await rm(workDir, { recursive: true, force: true });
});

describe('build context', () => {
  it('when the repository holds secrets, dependencies and build output, then only the sources reach the build', async () => {
    const { stdout } = await runCommand(
      ['docker', 'run', '--rm', '--entrypoint', 'find', tag, '/context', '-type', 'f'],
      { timeoutMs: 60_000 },
    );
    const copied = stdout
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => line.slice('/context/'.length))
      .sort();

    expect(copied).toEqual([...SENT].sort());
  });
});
