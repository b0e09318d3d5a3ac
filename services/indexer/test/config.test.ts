import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';

describe('indexer loadConfig', () => {
  it('when nothing is set, then the documented defaults are used', () => {
    expect(loadConfig({})).toMatchObject({ port: 3003, allowedSchemes: ['https'] });
  });

  it('when INDEX_DIR is relative, then the error names it', () => {
    expect(() => loadConfig({ INDEX_DIR: 'tmp' })).toThrow('INDEX_DIR: must be an absolute path');
  });
});
