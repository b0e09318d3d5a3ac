import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { refNameProblem } from '../src/index.js';

const valid = ['main', 'feature/x', 'v1.2.3', 'release-2024', 'a'.repeat(40), 'refs/heads/main'];
// git check-ref-format refuses every one of these too; it takes "-x" for an option.
const invalid = [
  '',
  '-x',
  '--upload-pack=touch',
  '@',
  'a..b',
  'a b',
  'a~1',
  'a^',
  'a:b',
  'a?',
  'a*',
  'a[b',
  'a\\b',
  'a@{1}',
  '/a',
  'a/',
  'a//b',
  'a.',
  '.a',
  'a/.b',
  'a.lock',
  'a/b.lock/c',
  'a\u0001b',
  'a\u007fb',
];

function gitAccepts(ref: string): boolean {
  try {
    execFileSync('git', ['check-ref-format', '--allow-onelevel', ref], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('refNameProblem', () => {
  it.each(valid)('when the ref is %j, then it is accepted as git accepts it', (ref) => {
    expect(refNameProblem(ref)).toBeUndefined();
    expect(gitAccepts(ref)).toBe(true);
  });

  it.each(invalid)('when the ref is %j, then it is refused', (ref) => {
    expect(refNameProblem(ref)).toBeTypeOf('string');
  });

  it('when git itself is asked about the refused names, then it refuses them too', () => {
    const acceptedByGit = invalid.filter((ref) => ref !== '' && gitAccepts(ref));
    expect(acceptedByGit).toEqual([]);
  });

  it('when a ref starts with -, then the reason says so', () => {
    expect(refNameProblem('-x')).toBe('must not start with "-"');
  });
});
