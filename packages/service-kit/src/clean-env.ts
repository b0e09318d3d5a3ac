import type { Env } from './env-reader.js';

/**
 * Variables an untrusted command inherits from the service. Everything else is
 * dropped: the service's own settings (REDIS_URL and its password), tokens and
 * cloud credentials never reach code from a repository. It is an allowlist on
 * purpose; a denylist misses the secret nobody thought of.
 */
export const INHERITED_VARIABLES: readonly string[] = [
  'PATH',
  'HOME',
  'LANG',
  'LC_ALL',
  'TZ',
  'TMPDIR',
  'TERM',
];

/**
 * The environment for an untrusted command: the allowlisted variables from
 * `from`, then `extra` on top. `CI=true` and the npm settings keep package
 * managers non-interactive and quiet (no update check, audit or funding calls).
 */
export function cleanEnv(from: Env, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of INHERITED_VARIABLES) {
    const value = from[name];
    if (value !== undefined) env[name] = value;
  }
  return {
    ...env,
    CI: 'true',
    NO_COLOR: '1',
    npm_config_update_notifier: 'false',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    ...extra,
  };
}
