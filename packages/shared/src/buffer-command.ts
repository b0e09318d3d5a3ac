import { Command, type Redis } from 'ioredis';

/**
 * Sends `name` with Buffer replies. `callBuffer` would do, but with
 * auto-pipelining on (createRedis turns it on) it drops the command name and
 * Redis answers "unknown command": https://github.com/redis/ioredis/issues/1923.
 * A Command given to sendCommand skips the auto-pipeline path.
 */
export function sendBufferCommand(
  redis: Redis,
  name: string,
  args: (string | number | Buffer)[],
): Promise<unknown> {
  return redis.sendCommand(new Command(name, args, { replyEncoding: null })) as Promise<unknown>;
}
