/**
 * Options that cannot work together, found when a producer or consumer is
 * constructed or started. The message names the option to change.
 */
export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
}
