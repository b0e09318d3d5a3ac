import { ConfigError } from '@reporunner/service-kit';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';

describe('builder loadConfig', () => {
  it('when only the required defaults apply, then the documented defaults are used', () => {
    const config = loadConfig({ WORKSPACES_DIR: '/srv/workspaces' });
    expect(config).toMatchObject({
      redisUrl: 'redis://127.0.0.1:6379',
      host: '127.0.0.1',
      port: 3001,
      workspacesDir: '/srv/workspaces',
      allowedSchemes: ['https'],
      commandTimeoutMs: 600_000,
      logTailBytes: 16_384,
      concurrency: 2,
    });
  });

  it.each([
    [{ WORKSPACES_DIR: 'relative/dir' }, 'WORKSPACES_DIR: must be an absolute path'],
    [{ COMMAND_TIMEOUT_MS: '10s' }, 'COMMAND_TIMEOUT_MS: must be an integer, got "10s"'],
    [
      { ALLOWED_REPO_SCHEMES: 'https,ftp' },
      'ALLOWED_REPO_SCHEMES: must be a comma-separated list of https, http, ssh, git, file, got "https,ftp"',
    ],
    [
      { REDIS_URL: 'localhost:6379' },
      'REDIS_URL: must be a redis:// or rediss:// URL, got localhost:',
    ],
    [{ PORT: '70000' }, 'PORT: must be between 0 and 65535, got 70000'],
  ])('when the environment is %j, then the error names the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
