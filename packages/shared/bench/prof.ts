import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { RunRequestedSchema } from '@reporunner/contracts';
import { createRedis, StreamConsumer } from '@reporunner/shared';
import { startTestRedis } from '@reporunner/testing';
import { rawConsume, rawPublishBatched } from './workload.ts';

const server = await startTestRedis({ mode: 'process' });
const redis = createRedis(server.url);
const N = 200_000;
await rawPublishBatched(redis, 'a', N, 1000);
await redis.xgroup('CREATE', 'a', 'g', '0');
await rawPublishBatched(redis, 'b', N, 1000);
await redis.xgroup('CREATE', 'b', 'g', '0');
const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.start');
let h = 0;
let fin: () => void = () => {};
const done = new Promise<void>((r) => {
  fin = r;
});
const c = new StreamConsumer({
  redis,
  stream: 'a',
  group: 'g',
  handles: [RunRequestedSchema],
  concurrency: 50,
  prefetch: 100,
  handler: async () => {
    if (++h === N) fin();
    return true;
  },
});
let t = performance.now();
await c.start();
await done;
console.log('lib', Math.round(N / ((performance.now() - t) / 1000)));
writeFileSync(
  '/tmp/exp/lib.cpuprofile',
  JSON.stringify((await session.post('Profiler.stop')).profile),
);
await c.stop();
await session.post('Profiler.start');
const reader = redis.duplicate({ enableAutoPipelining: false });
t = performance.now();
await rawConsume(reader, 'b', 'g', N);
console.log('raw', Math.round(N / ((performance.now() - t) / 1000)));
writeFileSync(
  '/tmp/exp/raw.cpuprofile',
  JSON.stringify((await session.post('Profiler.stop')).profile),
);
reader.disconnect();
redis.disconnect();
await server.close();
