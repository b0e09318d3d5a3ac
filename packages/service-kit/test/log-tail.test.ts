import { describe, expect, it } from 'vitest';
import { LogTail } from '../src/index.js';

describe('LogTail', () => {
  it('when the output fits, then it is kept whole', () => {
    const tail = new LogTail(100);
    tail.push('one\n');
    tail.push(Buffer.from('two\n'));
    expect(tail.text()).toBe('one\ntwo\n');
    expect(tail.droppedBytes).toBe(0);
  });

  it('when the output is larger than the cap, then only the last lines are kept and the drop is said', () => {
    const tail = new LogTail(20);
    for (let line = 1; line <= 1000; line += 1) tail.push(`line ${line}\n`);
    // 8,893 bytes in all; the last 20 are "\nline 999\nline 1000\n", trimmed to a line start.
    expect(tail.text()).toBe('[... 8874 bytes dropped ...]\nline 999\nline 1000\n');
  });

  it('when a single chunk is huge, then memory stays bounded by the cap', () => {
    const tail = new LogTail(10);
    tail.push('x'.repeat(1_000_000));
    expect(tail.text()).toBe(`[... 999990 bytes dropped ...]\n${'x'.repeat(10)}`);
  });
});
