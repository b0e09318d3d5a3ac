import { type Logger, pino } from 'pino';

/** A pino logger that writes nothing: the library's default when none is given. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
