/**
 * A setting is missing or invalid. The message names the environment variable,
 * so a service can print it as is and stop.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
  }
}
