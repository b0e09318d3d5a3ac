import { join } from 'node:path';

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * The directory of a workspace under `root`, or undefined when `name` could
 * leave it (`..`, `/`) or is not a plain name. Run ids and workspace
 * references come from events, so they are checked before touching disk.
 */
export function workspacePath(root: string, name: string): string | undefined {
  if (!SAFE_NAME.test(name) || name.includes('..')) return undefined;
  return join(root, name);
}
