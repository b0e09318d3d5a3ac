import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';

describe('runner loadConfig', () => {
  it('when nothing is set, then the documented defaults are used', () => {
    expect(loadConfig({})).toMatchObject({
      port: 3002,
      commandTimeoutMs: 600_000,
      keepWorkspaces: false,
      logTailBytes: 16_384,
    });
  });

  it('when KEEP_WORKSPACES or LOG_TAIL_BYTES is wrong, then the error names the variable', () => {
    expect(() => loadConfig({ KEEP_WORKSPACES: 'sometimes' })).toThrow(
      'KEEP_WORKSPACES: must be true or false, got "sometimes"',
    );
    expect(() => loadConfig({ LOG_TAIL_BYTES: '10' })).toThrow(
      'LOG_TAIL_BYTES: must be between 256 and 1048576, got 10',
    );
  });
});
