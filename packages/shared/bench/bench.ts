// `pnpm bench`: the library beside raw ioredis doing the same work, in one
// run against one local Redis (a redis-server process of the test helper).
// Every loop is bounded by a count; the whole run takes about a minute.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { RunRequestedSchema } from '@reporunner/contracts';
import { createRedis, StreamConsumer, StreamProducer } from '@reporunner/shared';
import { startTestRedis } from '@reporunner/testing';
import { event, rawConsume, rawFields, rawPublish, rawPublishBatched } from './workload.ts';

const PUBLISH_COUNT = 100_000;
const CONSUME_COUNT = 100_000;
const LATENCY_RATE = 1_000;
const LATENCY_SECONDS = 5;
const RSS_BACKLOG = 100_000;

const server = await startTestRedis({ mode: 'process' });
const redis = createRedis(server.url);
const rows: string[][] = [];

function name(prefix: string): string {
  return `bench:${prefix}:${randomUUID().slice(0, 8)}`;
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return (performance.now() - start) / 1_000;
}

function fmt(perSecond: number): string {
  return `${Math.round(perSecond).toLocaleString('en-US')}/s`;
}

/** Runs library and raw alternately, `rounds` times each, and keeps each side's best. */
async function compare(
  what: string,
  count: number,
  rounds: number,
  library: () => Promise<number>,
  raw: () => Promise<number>,
): Promise<void> {
  let bestLibrary = Number.POSITIVE_INFINITY;
  let bestRaw = Number.POSITIVE_INFINITY;
  for (let round = 0; round < rounds; round += 1) {
    bestLibrary = Math.min(bestLibrary, await library());
    bestRaw = Math.min(bestRaw, await raw());
  }
  const ratio = bestRaw / bestLibrary;
  rows.push([what, fmt(count / bestLibrary), fmt(count / bestRaw), ratio.toFixed(2)]);
}

async function fill(stream: string, count: number): Promise<void> {
  await rawPublishBatched(redis, stream, count, 1_000);
}

async function publishLibrary(count: number): Promise<number> {
  const stream = name('pub');
  const producer = new StreamProducer({ redis, stream, producerName: 'bench' });
  const seconds = await timed(async () => {
    for (let done = 0; done < count; done += 1_000) {
      await Promise.all(
        Array.from({ length: 1_000 }, (_, i) => producer.publish(event(`r${done + i}`))),
      );
    }
  });
  await redis.del(stream);
  return seconds;
}

async function publishRaw(count: number): Promise<number> {
  const stream = name('rawpub');
  const seconds = await timed(() => rawPublish(redis, stream, count, 1_000));
  await redis.del(stream);
  return seconds;
}

async function publishManyLibrary(count: number): Promise<number> {
  const stream = name('pubmany');
  const producer = new StreamProducer({ redis, stream, producerName: 'bench' });
  const seconds = await timed(async () => {
    for (let done = 0; done < count; done += 100) {
      await producer.publishMany(Array.from({ length: 100 }, (_, i) => event(`r${done + i}`)));
    }
  });
  await redis.del(stream);
  return seconds;
}

async function publishManyRaw(count: number): Promise<number> {
  const stream = name('rawpubmany');
  const seconds = await timed(() => rawPublishBatched(redis, stream, count, 100));
  await redis.del(stream);
  return seconds;
}

async function consumeLibrary(count: number, concurrency: number, prefetch: number) {
  const stream = name('consume');
  await fill(stream, count);
  await redis.xgroup('CREATE', stream, 'bench', '0');
  let handled = 0;
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const consumer = new StreamConsumer({
    redis,
    stream,
    group: 'bench',
    handles: [RunRequestedSchema],
    concurrency,
    prefetch,
    handler: async () => {
      handled += 1;
      if (handled === count) finish();
      return true;
    },
  });
  const seconds = await timed(async () => {
    await consumer.start();
    await done;
  });
  await consumer.stop();
  const [pending] = (await redis.xpending(stream, 'bench')) as [number];
  if (pending !== 0) throw new Error(`bench consumer left ${pending} entries pending`);
  await redis.del(stream);
  return seconds;
}

async function consumeRaw(count: number): Promise<number> {
  const stream = name('rawconsume');
  await fill(stream, count);
  await redis.xgroup('CREATE', stream, 'bench', '0');
  const reader = redis.duplicate({ enableAutoPipelining: false });
  const seconds = await timed(() => rawConsume(reader, stream, 'bench', count));
  reader.disconnect();
  await redis.del(stream);
  return seconds;
}

// Warm-up: the first thousands of calls of either side run in V8's
// interpreter; measuring them would favour whichever side runs second.
await publishLibrary(20_000);
await publishRaw(20_000);
await publishManyLibrary(20_000);
await publishManyRaw(20_000);
await consumeLibrary(20_000, 50, 100);
await consumeLibrary(20_000, 1, 100);
await consumeRaw(20_000);

// Publish-to-handler latency at a fixed rate: each event is sent at its due
// time (one per millisecond) and the handler measures from that send. A full
// collection first, so the warm-up's garbage is not collected inside a window.
async function sendAtRate(send: (sentAt: number) => void): Promise<void> {
  const total = LATENCY_RATE * LATENCY_SECONDS;
  const start = performance.now();
  let sent = 0;
  while (sent < total) {
    const wait = start + (sent * 1_000) / LATENCY_RATE - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    while (sent < total && start + (sent * 1_000) / LATENCY_RATE <= performance.now()) {
      send(performance.now());
      sent += 1;
    }
  }
}

async function latencyLibrary(prefetch: number): Promise<number[]> {
  (globalThis as { gc?: () => void }).gc?.();
  const stream = name('latency');
  const total = LATENCY_RATE * LATENCY_SECONDS;
  const latencies: number[] = [];
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const consumer = new StreamConsumer({
    redis,
    stream,
    group: 'bench',
    handles: [RunRequestedSchema],
    prefetch,
    handler: async (message) => {
      latencies.push(performance.now() - Number(message.runId));
      if (latencies.length === total) finish();
      return true;
    },
  });
  await consumer.start();
  const producer = new StreamProducer({ redis, stream, producerName: 'bench' });
  await sendAtRate((sentAt) => void producer.publish(event(String(sentAt))));
  await done;
  await consumer.stop();
  await redis.del(stream);
  return latencies;
}

async function latencyRaw(): Promise<number[]> {
  (globalThis as { gc?: () => void }).gc?.();
  const stream = name('rawlatency');
  const total = LATENCY_RATE * LATENCY_SECONDS;
  await redis.xgroup('CREATE', stream, 'bench', '0', 'MKSTREAM');
  const reader = redis.duplicate({ enableAutoPipelining: false });
  const latencies: number[] = [];
  const reading = rawConsume(reader, stream, 'bench', total, (message) =>
    latencies.push(performance.now() - Number(message.runId)),
  );
  await sendAtRate((sentAt) => void redis.xadd(stream, '*', ...rawFields(event(String(sentAt)))));
  await reading;
  reader.disconnect();
  await redis.del(stream);
  return latencies;
}

function percentiles(latencies: number[]): string {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
  return `p50 ${at(0.5).toFixed(2)} ms, p99 ${at(0.99).toFixed(2)} ms, max ${at(1).toFixed(2)} ms`;
}

const latencyRows: string[] = [];
latencyRows.push(`library, concurrency 1, prefetch 0:   ${percentiles(await latencyLibrary(0))}`);
latencyRows.push(`library, concurrency 1, prefetch 100: ${percentiles(await latencyLibrary(100))}`);
latencyRows.push(`raw ioredis, COUNT 100:               ${percentiles(await latencyRaw())}`);

await compare(
  'producer publish(), 1,000 in flight',
  PUBLISH_COUNT,
  3,
  () => publishLibrary(PUBLISH_COUNT),
  () => publishRaw(PUBLISH_COUNT),
);
await compare(
  'producer publishMany(100)',
  PUBLISH_COUNT,
  3,
  () => publishManyLibrary(PUBLISH_COUNT),
  () => publishManyRaw(PUBLISH_COUNT),
);
for (const [concurrency, prefetch] of [
  [1, 0],
  [1, 100],
  [50, 0],
  [50, 100],
] as const) {
  await compare(
    `consumer concurrency ${concurrency}, prefetch ${prefetch}`,
    CONSUME_COUNT,
    2,
    () => consumeLibrary(CONSUME_COUNT, concurrency, prefetch),
    () => consumeRaw(CONSUME_COUNT),
  );
}

// Consumer memory with a 100,000-entry backlog, each figure from a child
// process that does nothing else: a bare node, one that only loads the
// libraries, the library's consumer and a raw-ioredis consumer draining the
// same backlog with a no-op handler. Library and raw run alternately in this
// run, with Node's default heap sizing and with a small young generation.
interface MemoryResult {
  mode: string;
  handled: number;
  rssMb: number;
  heapUsedMb: number;
  peakHeapUsedMb: number;
  peakNewSpaceMb: number;
  maxRssMb: number;
  peakRssMb: number;
}

const memoryChild = fileURLToPath(new URL('./memory-child.mjs', import.meta.url));

async function measureMemory(
  mode: 'empty' | 'imports' | 'library' | 'raw',
  flags: string[],
  concurrency = 50,
  prefetch = 100,
): Promise<MemoryResult & { label: string }> {
  const stream = name(`memory-${mode}`);
  const drains = mode === 'library' || mode === 'raw';
  if (drains) {
    await fill(stream, RSS_BACKLOG);
    await redis.xgroup('CREATE', stream, 'bench', '0');
  }
  const settings = {
    mode,
    url: server.url,
    stream,
    group: 'bench',
    total: RSS_BACKLOG,
    concurrency,
    prefetch,
  };
  const output = execFileSync(process.execPath, [...flags, memoryChild, JSON.stringify(settings)]);
  const result = JSON.parse(output.toString()) as MemoryResult;
  if (drains && result.handled !== RSS_BACKLOG) {
    throw new Error(`memory child (${mode}) handled ${result.handled}`);
  }
  await redis.del(stream);
  const options = mode === 'library' ? `, concurrency ${concurrency}, prefetch ${prefetch}` : '';
  const raw = mode === 'raw' ? ', COUNT 100' : '';
  return { ...result, label: `${mode}${options}${raw}, ${flags.join(' ') || 'default flags'}` };
}

const memory: (MemoryResult & { label: string })[] = [];
memory.push(await measureMemory('empty', []));
memory.push(await measureMemory('imports', []));
for (const flags of [[], ['--max-semi-space-size=2']]) {
  memory.push(await measureMemory('library', flags));
  memory.push(await measureMemory('raw', flags));
}
memory.push(await measureMemory('library', [], 1, 0));

redis.disconnect();
await server.close();

const widths = [38, 14, 14, 6];
const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i] ?? 10)).join(' ');
console.log(`Redis ${server.mode} on 127.0.0.1, node ${process.version}; best of 2-3 runs each`);
console.log(line(['work (events/s)', 'library', 'raw ioredis', 'ratio']));
for (const row of rows) console.log(line(row));
console.log(`publish-to-handler latency at ${LATENCY_RATE}/s for ${LATENCY_SECONDS} s:`);
for (const row of latencyRows) console.log(`  ${row}`);
console.log(
  `consumer memory, ${RSS_BACKLOG.toLocaleString('en-US')}-entry backlog, ` +
    'each in a child process of its own (MB: peak RSS (VmHWM) / maxRSS / RSS at end / ' +
    'heap used at end / peak heap used / peak young generation reserved):',
);
for (const run of memory) {
  const figures = [
    run.peakRssMb,
    run.maxRssMb,
    run.rssMb,
    run.heapUsedMb,
    run.peakHeapUsedMb,
    run.peakNewSpaceMb,
  ];
  console.log(`  ${run.label.padEnd(64)} ${figures.map((mb) => mb.toFixed(1)).join(' / ')}`);
}
console.log(`bench process peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(1)} MB`);
