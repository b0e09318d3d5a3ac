/** The part of an ioredis client closeRedis uses. */
export interface ClosableRedis {
  readonly status: string;
  quit(): Promise<unknown>;
  disconnect(): void;
}

/**
 * Closes a connection at shutdown: QUIT when connected, so queued replies
 * arrive first; a plain disconnect otherwise, since QUIT on a connection that
 * is down waits in the offline queue for a Redis that may never come back.
 */
export async function closeRedis(redis: ClosableRedis, timeoutMs = 2_000): Promise<void> {
  if (redis.status !== 'ready') {
    redis.disconnect();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.quit(),
      new Promise((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
  } catch {
    // The connection dropped during QUIT: closed either way.
  } finally {
    clearTimeout(timer);
    redis.disconnect();
  }
}
