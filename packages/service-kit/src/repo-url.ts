import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Repository URL schemes a deployment may allow. `file` covers file URLs and local paths. */
export const REPO_SCHEMES = ['https', 'http', 'ssh', 'git', 'file'] as const;

/** One of REPO_SCHEMES. */
export type RepoScheme = (typeof REPO_SCHEMES)[number];

/** A repository location that passed checkRepoUrl. */
export interface CheckedRepoUrl {
  scheme: RepoScheme;
  /** What git is given: the URL as written, or a file URL for a local path. */
  gitUrl: string;
}

/**
 * Checks a repository URL against the allowed schemes and returns what to hand
 * to git, or a reason it is refused. An absolute local path counts as `file`.
 * Credentials inside the URL are refused: they would end up in run records,
 * events and logs.
 */
export function checkRepoUrl(
  input: string,
  allowed: readonly RepoScheme[],
): CheckedRepoUrl | { problem: string } {
  if (input.length === 0) return { problem: 'must not be empty' };
  if (input.length > 2048) return { problem: 'must be at most 2048 characters' };
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it rejects
  if (/[\u0000-\u001f\u007f]/.test(input))
    return { problem: 'must not contain control characters' };

  if (isAbsolute(input)) {
    if (!allowed.includes('file')) return { problem: 'local paths are not allowed here' };
    return { scheme: 'file', gitUrl: pathToFileURL(resolve(input)).href };
  }

  let url: URL;
  try {
    url = new URL(input);
  } catch {
    return { problem: 'is not a URL' };
  }
  const scheme = url.protocol.slice(0, -1);
  if (!(REPO_SCHEMES as readonly string[]).includes(scheme)) {
    return { problem: `scheme "${scheme}" is not supported` };
  }
  if (!allowed.includes(scheme as RepoScheme)) {
    return { problem: `scheme "${scheme}" is not allowed (allowed: ${allowed.join(', ')})` };
  }
  if (scheme === 'file') {
    if (url.host !== '') return { problem: 'file URLs must not name a host' };
    return { scheme, gitUrl: url.href };
  }
  if (url.hostname === '') return { problem: 'must name a host' };
  if (url.password !== '' || (url.username !== '' && scheme !== 'ssh')) {
    return { problem: 'must not contain credentials' };
  }
  return { scheme: scheme as RepoScheme, gitUrl: url.href };
}
