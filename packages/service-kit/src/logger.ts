import { type Logger, pino } from 'pino';

/** Options for createLogger. */
export interface LoggerOptions {
  /** pino level; default `info`. */
  level?: string;
  /** Where JSON lines go; default stdout. Tests pass a stream to read them back. */
  destination?: NodeJS.WritableStream;
}

/** The JSON logger every service uses, with `service` bound on every line. */
export function createLogger(service: string, options: LoggerOptions = {}): Logger {
  const settings = { level: options.level ?? 'info', base: { service } };
  return options.destination === undefined
    ? pino(settings)
    : pino(settings, options.destination as pino.DestinationStream);
}

export type { Logger };
