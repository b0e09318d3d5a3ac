import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/index.js';

function capture(): { lines: string[]; sink: Writable } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line !== '') lines.push(line);
      done();
    },
  });
  return { lines, sink };
}

// Shaped like what ioredis rejects a command with: a ReplyError carrying the command.
class ReplyError extends Error {
  override readonly name = 'ReplyError';

  constructor(
    message: string,
    readonly command: { name: string; args: string[] },
  ) {
    super(message);
  }
}

function replyError(message: string, name: string, args: string[]): Error {
  return new ReplyError(message, { name, args });
}

describe('createLogger', () => {
  it.each([
    ['auth', ['reporunner', 'the-password']],
    ['hello', ['3', 'AUTH', 'reporunner', 'the-password']],
  ])(
    'when an error of a failed %s command is logged, then its arguments are not',
    (command, args) => {
      const { lines, sink } = capture();
      const logger = createLogger('test', { destination: sink });

      logger.child({ stream: 's' }).warn({ err: replyError('WRONGPASS', command, args) }, 'failed');

      expect(lines).toHaveLength(1);
      expect(lines[0]).not.toContain('the-password');
      expect(JSON.parse(lines[0] ?? '').err).toMatchObject({
        type: 'ReplyError',
        message: 'WRONGPASS',
        command: { name: command, args: ['***'] },
      });
    },
  );

  it('when an error of another command is logged, then its arguments are kept', () => {
    const { lines, sink } = capture();
    const logger = createLogger('test', { destination: sink });

    logger.error({ err: replyError('NOGROUP', 'xack', ['stream:s', 'group:g', '1-0']) }, 'failed');

    expect(JSON.parse(lines[0] ?? '').err.command).toEqual({
      name: 'xack',
      args: ['stream:s', 'group:g', '1-0'],
    });
  });
});
