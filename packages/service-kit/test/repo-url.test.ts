import { describe, expect, it } from 'vitest';
import { checkRepoUrl } from '../src/index.js';

describe('checkRepoUrl', () => {
  it('when an https URL is allowed, then git gets it as written', () => {
    expect(checkRepoUrl('https://example.com/org/repo.git', ['https'])).toEqual({
      scheme: 'https',
      gitUrl: 'https://example.com/org/repo.git',
    });
  });

  it('when file is not allowed, then file URLs and local paths are refused', () => {
    expect(checkRepoUrl('file:///srv/repo', ['https'])).toEqual({
      problem: 'scheme "file" is not allowed (allowed: https)',
    });
    expect(checkRepoUrl('/srv/repo', ['https'])).toEqual({
      problem: 'local paths are not allowed here',
    });
  });

  it('when file is allowed, then a local path becomes a file URL', () => {
    expect(checkRepoUrl('/srv/my repo', ['https', 'file'])).toEqual({
      scheme: 'file',
      gitUrl: 'file:///srv/my%20repo',
    });
    expect(checkRepoUrl('file:///srv/repo', ['file'])).toEqual({
      scheme: 'file',
      gitUrl: 'file:///srv/repo',
    });
  });

  it('when the input is not a URL or hides an option, then it is refused', () => {
    expect(checkRepoUrl('not a url', ['https'])).toEqual({ problem: 'is not a URL' });
    expect(checkRepoUrl('--upload-pack=touch /tmp/x', ['https', 'file'])).toEqual({
      problem: 'is not a URL',
    });
    expect(checkRepoUrl('git@example.com:org/repo.git', ['https', 'ssh'])).toEqual({
      problem: 'is not a URL',
    });
    expect(checkRepoUrl('ext::sh -c touch% /tmp/pwned', ['https', 'file'])).toEqual({
      problem: 'scheme "ext" is not supported',
    });
  });

  it('when the scheme is unknown or credentials are embedded, then it is refused', () => {
    expect(checkRepoUrl('ftp://example.com/repo', ['https'])).toEqual({
      problem: 'scheme "ftp" is not supported',
    });
    expect(checkRepoUrl('https://user:secret@example.com/repo', ['https'])).toEqual({
      problem: 'must not contain credentials',
    });
    expect(checkRepoUrl('file://host/srv/repo', ['file'])).toEqual({
      problem: 'file URLs must not name a host',
    });
    expect(checkRepoUrl('', ['https'])).toEqual({ problem: 'must not be empty' });
  });
});
