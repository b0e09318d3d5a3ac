import { describe, expect, it } from 'vitest';
import { describeEvent, tailLines } from '../src/run-printer.js';
import type { RunView } from '../src/run-view.js';

const run: RunView = {
  runId: 'r1',
  repoUrl: 'https://example.com/r.git',
  ref: '',
  status: 'failed',
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:02.000Z',
  timeline: [],
  build: {
    status: 'succeeded',
    worker: 'b1',
    commitSha: '0123456789abcdef0123',
    convention: 'npm',
    durationMs: 420,
  },
  run: { status: 'failed', command: ['npm', 'test'], reason: 'tests failed: exit code 1' },
  index: {
    status: 'completed',
    totalFiles: 3,
    totalLines: 40,
    totalBytes: 900,
    languages: [
      { language: 'TypeScript', lines: 30 },
      { language: 'JSON', lines: 10 },
    ],
  },
  failure: { stage: 'run', reason: 'tests failed: exit code 1' },
};

describe('describeEvent', () => {
  it('when each lifecycle event is described, then the line says what happened', () => {
    expect(
      [
        'RunRequested',
        'BuildStarted',
        'BuildSucceeded',
        'RunStarted',
        'RunFailed',
        'IndexingCompleted',
      ].map((event) => describeEvent(event, run)),
    ).toEqual([
      'requested      https://example.com/r.git (default branch)',
      'build started  on b1',
      'build ok       commit 0123456789ab, npm, 420 ms',
      'run started    npm test',
      'run failed     tests failed: exit code 1',
      'indexed        3 files, 40 lines, 900 bytes (TypeScript 30, JSON 10)',
    ]);
  });
});

describe('tailLines', () => {
  it('when output is long, then the last lines are kept and indented', () => {
    const text = Array.from({ length: 30 }, (_, i) => `line ${i + 1}`).join('\n');
    expect(tailLines(text, 2)).toBe('  | line 29\n  | line 30');
    expect(tailLines('   ')).toBe('');
  });
});
