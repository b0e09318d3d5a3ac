import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, type Message } from '@bufbuild/protobuf';
import {
  type IndexingCompleted,
  type IndexingFailed,
  RunRequestedSchema,
} from '@reporunner/contracts';
import { cleanEnv, createLogger } from '@reporunner/service-kit';
import { createGitRepo } from '@reporunner/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countLines, summarize } from '../src/index-files.js';
import { type IndexDependencies, indexRun } from '../src/index-run.js';
import { languageOf } from '../src/languages.js';

let root: string;
let repo: string;
let sha: string;
let deps: IndexDependencies;
let published: Message[] = [];
const logger = createLogger('indexer', { level: 'silent' });

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'indexer-test-'));
  repo = join(root, 'origin');
  sha = await createGitRepo(repo, {
    'src/app.ts': 'export const a = 1;\nexport const b = 2;\nexport const c = 3;\n',
    'src/util.js': 'module.exports = 1;\nmodule.exports.x = 2;',
    'README.md': '# Demo\n',
    'package.json': '{"name": "demo"}\n',
    'logo.png': `\u0089PNG\r\n\u001a\n\u0000\u0000\u0000\rIHDR`,
    'empty.txt': '',
  });
  deps = {
    indexDir: join(root, 'index'),
    allowedSchemes: ['file'],
    commandTimeoutMs: 30_000,
    env: cleanEnv(process.env),
    publish: async (event) => {
      published.push(event);
    },
  };
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function index(repoUrl: string, ref = ''): Promise<Message[]> {
  published = [];
  await indexRun(deps, create(RunRequestedSchema, { runId: 'run-1', repoUrl, ref }), logger);
  return published;
}

describe('indexRun', () => {
  it('when the repository is fetched, then files, bytes and lines per language are exact', async () => {
    const [event] = (await index(repo)) as IndexingCompleted[];
    expect(event?.$typeName).toBe('reporunner.events.v1.IndexingCompleted');
    expect(event?.commitSha).toBe(sha);
    expect(event?.totalFiles).toBe(6n);
    expect(event?.totalLines).toBe(7n);
    expect(event?.binaryFiles).toBe(1n);
    expect(event?.totalBytes).toBe(142n);
    expect(
      event?.languages.map((l) => [l.language, Number(l.files), Number(l.bytes), Number(l.lines)]),
    ).toEqual([
      ['TypeScript', 1, 60, 3],
      ['JavaScript', 1, 41, 2],
      ['JSON', 1, 17, 1],
      ['Markdown', 1, 7, 1],
      ['Binary', 1, 17, 0],
      ['Text', 1, 0, 0],
    ]);
    expect(event?.largestFiles.map((file) => file.path)).toEqual([
      'src/app.ts',
      'src/util.js',
      'logo.png',
      'package.json',
      'README.md',
      'empty.txt',
    ]);
    expect(event?.manifests).toEqual(['package.json', 'README.md']);
    expect(await readdir(deps.indexDir)).toEqual([]);
  });

  it('when the ref does not exist, then IndexingFailed quotes git and the checkout is removed', async () => {
    const [event] = (await index(repo, 'nope')) as IndexingFailed[];
    expect(event?.$typeName).toBe('reporunner.events.v1.IndexingFailed');
    expect(event?.reason).toBe("git fetch failed: couldn't find remote ref nope");
    expect(await readdir(deps.indexDir)).toEqual([]);
  });

  it('when the URL is refused, then IndexingFailed says why', async () => {
    const [event] = (await index('https://user:pw@example.com/x.git')) as IndexingFailed[];
    expect(event?.reason).toBe(
      'repository URL refused: scheme "https" is not allowed (allowed: file)',
    );
  });

  it('when a file name is not UTF-8, then the file is still indexed, under a readable name', async () => {
    const latin1 = join(root, 'latin1-name');
    await mkdir(latin1, { recursive: true });
    // "café.txt" written in Latin-1: the lone byte 0xe9 is not valid UTF-8.
    const name = Buffer.concat([Buffer.from('caf'), Buffer.from([0xe9]), Buffer.from('.txt')]);
    await writeFile(Buffer.concat([Buffer.from(`${latin1}/`), name]), 'one\ntwo\n');
    await createGitRepo(latin1, { 'a.txt': 'one\n' });

    const [event] = (await index(latin1)) as IndexingCompleted[];
    expect(event?.$typeName).toBe('reporunner.events.v1.IndexingCompleted');
    expect(event?.totalFiles).toBe(2n);
    expect(event?.totalLines).toBe(3n);
    expect(event?.largestFiles.map((file) => file.path)).toEqual(['caf\ufffd.txt', 'a.txt']);
  });
});

describe('index-files', () => {
  it('when a symlink points outside the checkout, then it is counted but not followed', async () => {
    const withLink = join(root, 'with-link');
    await createGitRepo(withLink, { 'a.txt': 'one\n' });
    await symlink('/etc/passwd', join(withLink, 'link'));
    const { indexFiles } = await import('../src/index-files.js');
    const result = await indexFiles(withLink, [Buffer.from('a.txt'), Buffer.from('link')]);
    expect(result.totalLines).toBe(1);
    expect(result.largestFiles.find((file) => file.path === 'link')).toEqual({
      path: 'link',
      bytes: '/etc/passwd'.length,
      lines: 0,
      language: 'Other',
      binary: false,
    });
    expect(existsSync(join(withLink, 'link'))).toBe(true);
  });

  it('when a file has no final newline, then its last line still counts', async () => {
    const dir = join(root, 'lines');
    await createGitRepo(dir, { a: 'x\ny', b: 'x\ny\n', c: '\n\n' });
    expect(await countLines(join(dir, 'a'))).toEqual({ lines: 2, binary: false });
    expect(await countLines(join(dir, 'b'))).toEqual({ lines: 2, binary: false });
    expect(await countLines(join(dir, 'c'))).toEqual({ lines: 2, binary: false });
  });

  it('when there are more than ten files, then only the ten largest are listed', () => {
    const files = Array.from({ length: 12 }, (_, i) => ({
      path: `f${i}`,
      bytes: i,
      lines: 1,
      language: 'Text',
      binary: false,
    }));
    const result = summarize(files);
    expect(result.largestFiles.map((file) => file.path)).toEqual([
      'f11',
      'f10',
      'f9',
      'f8',
      'f7',
      'f6',
      'f5',
      'f4',
      'f3',
      'f2',
    ]);
  });

  it('when names have no telling extension, then languages come from the name or are Other', () => {
    expect(languageOf('Makefile')).toBe('Makefile');
    expect(languageOf('docker/Dockerfile.dev')).toBe('Dockerfile');
    expect(languageOf('.gitignore')).toBe('Other');
    expect(languageOf('src/Main.TS')).toBe('TypeScript');
  });
});
