import { describe, expect, it } from 'vitest';
import { ConfigError, EnvReader } from '../src/index.js';

function problem(read: () => unknown): string {
  try {
    read();
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('EnvReader', () => {
  it('when a variable is unset or empty, then the fallback is used', () => {
    const env = new EnvReader({ EMPTY: '  ' });
    expect(env.string('EMPTY', 'x')).toBe('x');
    expect(env.int('MISSING', 7, { min: 0 })).toBe(7);
    expect(env.bool('MISSING', true)).toBe(true);
  });

  it('when a required variable is missing, then the error names it', () => {
    expect(problem(() => new EnvReader({}).string('WORKSPACES_DIR'))).toBe(
      'WORKSPACES_DIR: is required',
    );
  });

  it('when an integer is malformed or out of range, then the error names the variable', () => {
    const env = new EnvReader({ PORT: '80a', TIMEOUT_MS: '0' });
    expect(problem(() => env.int('PORT', 3000, { min: 0, max: 65535 }))).toBe(
      'PORT: must be an integer, got "80a"',
    );
    expect(problem(() => env.int('TIMEOUT_MS', 10, { min: 1 }))).toBe(
      `TIMEOUT_MS: must be between 1 and ${Number.MAX_SAFE_INTEGER}, got 0`,
    );
  });

  it('when a list holds an unknown item, then the error lists the choices', () => {
    const env = new EnvReader({ ALLOWED_REPO_SCHEMES: 'https, FILE', BAD: 'https,ftp' });
    expect(env.listOf('ALLOWED_REPO_SCHEMES', ['https'], ['https', 'file'])).toEqual([
      'https',
      'file',
    ]);
    expect(problem(() => env.listOf('BAD', ['https'], ['https', 'file']))).toBe(
      'BAD: must be a comma-separated list of https, file, got "https,ftp"',
    );
  });

  it('when a boolean or a Redis URL is wrong, then the error names the variable', () => {
    const env = new EnvReader({ KEEP: 'maybe', REDIS_URL: 'http://localhost:6379' });
    expect(problem(() => env.bool('KEEP', false))).toBe('KEEP: must be true or false, got "maybe"');
    expect(problem(() => env.redisUrl('REDIS_URL', 'redis://127.0.0.1:6379'))).toBe(
      'REDIS_URL: must be a redis:// or rediss:// URL, got http://',
    );
    expect(new EnvReader({}).redisUrl('REDIS_URL', 'redis://127.0.0.1:6379')).toBe(
      'redis://127.0.0.1:6379',
    );
  });
});
