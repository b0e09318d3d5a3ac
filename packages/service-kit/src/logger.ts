import { type Logger, pino } from 'pino';

/** Options for createLogger. */
export interface LoggerOptions {
  /** pino level; default `info`. */
  level?: string;
  /** Where JSON lines go; default stdout. Tests pass a stream to read them back. */
  destination?: NodeJS.WritableStream;
}

// Commands whose arguments hold a password (AUTH user pass, HELLO 3 AUTH user pass).
const SECRET_COMMANDS = new Set(['auth', 'hello']);

/**
 * pino's error serializer, except that the arguments of an AUTH or HELLO
 * command are masked. ioredis attaches the failed command to its errors, and
 * every command queued behind a refused AUTH (a disabled ACL user, a rotated
 * password) is rejected with that AUTH's error: its arguments are the password.
 */
function serializeError(error: unknown): unknown {
  const serialized = pino.stdSerializers.err(error as Error) as unknown;
  if (typeof serialized !== 'object' || serialized === null) return serialized;
  const command = (serialized as { command?: { name?: unknown } }).command;
  if (typeof command?.name !== 'string' || !SECRET_COMMANDS.has(command.name.toLowerCase())) {
    return serialized;
  }
  return { ...serialized, command: { name: command.name, args: ['***'] } };
}

/** The JSON logger every service uses, with `service` bound on every line. */
export function createLogger(service: string, options: LoggerOptions = {}): Logger {
  const settings = {
    level: options.level ?? 'info',
    base: { service },
    serializers: { err: serializeError },
  };
  return options.destination === undefined
    ? pino(settings)
    : pino(settings, options.destination as pino.DestinationStream);
}

export type { Logger };
