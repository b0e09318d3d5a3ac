import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';

describe('orchestrator loadConfig', () => {
  it('when nothing is set, then https only, port 3000 and a 4 KiB body limit apply', () => {
    expect(loadConfig({})).toMatchObject({
      port: 3000,
      allowedSchemes: ['https'],
      bodyLimitBytes: 4096,
      lagWarningThreshold: 100,
      lagUnhealthyThreshold: 1000,
    });
  });

  it('when file is allowed, then it is in the list', () => {
    expect(loadConfig({ ALLOWED_REPO_SCHEMES: 'https,file' }).allowedSchemes).toEqual([
      'https',
      'file',
    ]);
  });

  it('when the lag thresholds are inverted, then the error names the second one', () => {
    expect(() =>
      loadConfig({ LAG_WARNING_THRESHOLD: '500', LAG_UNHEALTHY_THRESHOLD: '100' }),
    ).toThrow(
      `LAG_UNHEALTHY_THRESHOLD: must be between 501 and ${Number.MAX_SAFE_INTEGER}, got 100`,
    );
  });
});
