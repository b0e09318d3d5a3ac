import { ConfigError } from './config-error.js';

/** The environment a config is read from; `process.env` in services, a literal in tests. */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Typed accessors over an environment. Each one throws a ConfigError naming the
 * variable when the value is present but wrong; an empty string counts as unset.
 */
export class EnvReader {
  constructor(private readonly env: Env) {}

  /** The raw value, or undefined when unset or empty. */
  raw(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  }

  /** A string; `fallback` when unset. Without a fallback the variable is required. */
  string(name: string, fallback?: string): string {
    const value = this.raw(name) ?? fallback;
    if (value === undefined) throw new ConfigError(name, 'is required');
    return value;
  }

  /** An integer within [min, max]. */
  int(name: string, fallback: number, range: { min: number; max?: number }): number {
    const text = this.raw(name);
    if (text === undefined) return fallback;
    if (!/^-?\d+$/.test(text)) throw new ConfigError(name, `must be an integer, got "${text}"`);
    const value = Number(text);
    const max = range.max ?? Number.MAX_SAFE_INTEGER;
    if (value < range.min || value > max) {
      throw new ConfigError(name, `must be between ${range.min} and ${max}, got ${value}`);
    }
    return value;
  }

  /** `true`/`1`/`yes` or `false`/`0`/`no`, case-insensitive. */
  bool(name: string, fallback: boolean): boolean {
    const text = this.raw(name)?.toLowerCase();
    if (text === undefined) return fallback;
    if (['true', '1', 'yes'].includes(text)) return true;
    if (['false', '0', 'no'].includes(text)) return false;
    throw new ConfigError(name, `must be true or false, got "${text}"`);
  }

  /** One of `choices`. */
  oneOf<T extends string>(name: string, fallback: T, choices: readonly T[]): T {
    const text = this.raw(name);
    if (text === undefined) return fallback;
    if (!(choices as readonly string[]).includes(text)) {
      throw new ConfigError(name, `must be one of ${choices.join(', ')}, got "${text}"`);
    }
    return text as T;
  }

  /** A comma-separated list whose items are all in `choices`, without duplicates. */
  listOf<T extends string>(name: string, fallback: readonly T[], choices: readonly T[]): T[] {
    const text = this.raw(name);
    if (text === undefined) return [...fallback];
    const items = text.split(',').map((item) => item.trim().toLowerCase());
    const unknown = items.filter((item) => !(choices as readonly string[]).includes(item));
    if (unknown.length > 0 || items.length === 0) {
      throw new ConfigError(
        name,
        `must be a comma-separated list of ${choices.join(', ')}, got "${text}"`,
      );
    }
    return [...new Set(items)] as T[];
  }

  /** A `redis://` or `rediss://` URL. */
  redisUrl(name: string, fallback: string): string {
    const text = this.string(name, fallback);
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new ConfigError(name, 'must be a redis:// or rediss:// URL');
    }
    if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
      throw new ConfigError(name, `must be a redis:// or rediss:// URL, got ${url.protocol}//`);
    }
    return text;
  }
}

/**
 * Runs `load` and returns its config; on a ConfigError prints the one-line
 * message to stderr and exits with code 78 (EX_CONFIG), so a service never starts
 * half-configured.
 */
export function loadConfigOrExit<T>(service: string, load: () => T): T {
  try {
    return load();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${service}: invalid configuration: ${error.message}\n`);
    process.exit(78);
  }
}
