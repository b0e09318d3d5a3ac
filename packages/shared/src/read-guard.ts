import type { Redis } from 'ioredis';

/** The read was given up after its BLOCK time and a grace period. */
export const readTimedOut = Symbol('read timed out');
/** The connection closed while the read was in flight. */
export const readConnectionClosed = Symbol('read connection closed');

/**
 * Races a blocking read against its connection closing and a watchdog. With
 * autoResendUnfulfilledCommands off, ioredis drops a command interrupted by a
 * reconnect without settling its promise: without this race a read whose
 * connection was killed would wait forever. The same goes for a half-open
 * socket that never reports an error.
 */
export async function guardRead<T>(
  connection: Redis,
  read: Promise<T>,
  watchdogMs: number,
): Promise<T | typeof readTimedOut | typeof readConnectionClosed> {
  let timer: NodeJS.Timeout | undefined;
  let onClose: (() => void) | undefined;
  const guards = new Promise<typeof readTimedOut | typeof readConnectionClosed>((resolve) => {
    timer = setTimeout(() => resolve(readTimedOut), watchdogMs);
    onClose = () => resolve(readConnectionClosed);
    connection.once('close', onClose);
  });
  try {
    return await Promise.race([read, guards]);
  } finally {
    clearTimeout(timer);
    if (onClose !== undefined) connection.off('close', onClose);
  }
}

/** Resolves when `connection` is ready, `signal` aborts, or `maxWaitMs` passed. */
export function waitForReady(connection: Redis, signal: AbortSignal, maxWaitMs: number) {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      connection.off('ready', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, maxWaitMs);
    connection.once('ready', done);
    signal.addEventListener('abort', done, { once: true });
  });
}
