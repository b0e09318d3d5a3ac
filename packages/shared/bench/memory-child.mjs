// One memory measurement in a process of its own, so nothing else (the bench
// harness, the producer, other runs' garbage) is counted. Plain JavaScript:
// running a .ts file would load Node's type stripper and count it too.
// argv[2]: JSON { mode, url, stream, group, total, concurrency, prefetch }.
// mode: 'empty' (bare node), 'imports' (only loads the libraries), 'library'
// (StreamConsumer drains the backlog), 'raw' (raw ioredis drains it).
import { readFileSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';

const settings = JSON.parse(process.argv[2] ?? '{}');
const mb = (bytes) => bytes / 1_048_576;

// Sampled every 20 ms: the heap in use peaks between collections, and
// memoryUsage() at the end would only show what survived the last one. The
// young generation's reserved size shows how much of the RSS is V8 sizing
// its nursery for the allocation rate rather than data anybody holds.
let peakHeapUsed = 0;
let peakNewSpace = 0;
function sample() {
  peakHeapUsed = Math.max(peakHeapUsed, process.memoryUsage().heapUsed);
  const young = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space');
  peakNewSpace = Math.max(peakNewSpace, young?.space_size ?? 0);
}
const sampler = setInterval(sample, 20);

const handled = await run(settings);

clearInterval(sampler);
sample();
const usage = process.memoryUsage();
const result = {
  mode: settings.mode,
  handled,
  rssMb: mb(usage.rss),
  heapUsedMb: mb(usage.heapUsed),
  peakHeapUsedMb: mb(peakHeapUsed),
  peakNewSpaceMb: mb(peakNewSpace),
  maxRssMb: process.resourceUsage().maxRSS / 1024,
  peakRssMb: ownPeakRssKb() / 1024,
};
process.stdout.write(`${JSON.stringify(result)}\n`);

async function run({ mode, url, stream, group, total, concurrency, prefetch }) {
  if (mode === 'empty') return 0;
  const { RunRequestedSchema } = await import('@reporunner/contracts');
  const { createRedis, StreamConsumer } = await import('@reporunner/shared');
  const { rawConsume } = await import('./raw-consume.mjs');
  if (mode === 'imports') return 0;

  const redis = createRedis(url);
  if (mode === 'raw') {
    const reader = redis.duplicate({ enableAutoPipelining: false });
    const count = await rawConsume(reader, RunRequestedSchema, stream, group, total);
    reader.disconnect();
    redis.disconnect();
    return count;
  }

  let count = 0;
  const { promise: done, resolve: finish } = Promise.withResolvers();
  const consumer = new StreamConsumer({
    redis,
    stream,
    group,
    handles: [RunRequestedSchema],
    concurrency,
    prefetch,
    handler: async () => {
      count += 1;
      if (count === total) finish();
      return true;
    },
  });
  await consumer.start();
  await done;
  await consumer.stop();
  redis.disconnect();
  return count;
}

// Linux keeps getrusage's maxRSS across exec, so a child spawned by a large
// process can report the parent's size as its own peak (a bare node spawned
// by the bench showed 60 MB against 46 MB). VmHWM is the high-water mark of
// this process's own memory since exec.
function ownPeakRssKb() {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const match = /^VmHWM:\s+(\d+) kB/m.exec(status);
    if (match?.[1] !== undefined) return Number(match[1]);
  } catch {
    // Not Linux: maxRSS is the best there is.
  }
  return process.resourceUsage().maxRSS;
}
