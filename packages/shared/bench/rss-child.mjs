// Drains a backlog with one consumer and prints its peak RSS, so the figure is
// the consumer's alone. Plain JavaScript: running a .ts file would load
// Node's type stripper and count its memory too.
// argv[2]: JSON { url, stream, group, total, concurrency, prefetch }.
import { RunRequestedSchema } from '@reporunner/contracts';
import { createRedis, StreamConsumer } from '@reporunner/shared';

const { url, stream, group, total, concurrency, prefetch } = JSON.parse(process.argv[2] ?? '{}');
const redis = createRedis(url);
let handled = 0;
let finish = () => {};
const done = new Promise((resolve) => {
  finish = resolve;
});
const consumer = new StreamConsumer({
  redis,
  stream,
  group,
  handles: [RunRequestedSchema],
  concurrency,
  prefetch,
  handler: async () => {
    handled += 1;
    if (handled === total) finish();
    return true;
  },
});
const startRssMb = process.memoryUsage().rss / 1_048_576;
await consumer.start();
await done;
await consumer.stop();
redis.disconnect();
const maxRssMb = process.resourceUsage().maxRSS / 1024;
process.stdout.write(`${JSON.stringify({ handled, startRssMb, maxRssMb })}\n`);
