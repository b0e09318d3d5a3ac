// The raw-ioredis baseline consumer for the memory child, in plain JavaScript
// for the same reason as memory-child.mjs. Same work as rawConsume in
// workload.ts: XREADGROUP COUNT 100, decode each entry, a no-op, one XACK per
// batch.
import { fromBinary } from '@bufbuild/protobuf';

export async function rawConsume(redis, schema, stream, group, total) {
  let handled = 0;
  // Bounded: a backlog of `total` entries ends in total / 100 full reads; the
  // extra room covers short reads.
  for (let reads = 0; handled < total && reads < total; reads += 1) {
    const reply = await redis.callBuffer(
      'XREADGROUP',
      'GROUP',
      group,
      'raw',
      'COUNT',
      100,
      'BLOCK',
      1_000,
      'STREAMS',
      stream,
      '>',
    );
    if (reply === null) continue;
    const ids = [];
    for (const [, entries] of reply) {
      for (const [id, flat] of entries) {
        const fields = new Map();
        for (let i = 0; i + 1 < flat.length; i += 2) fields.set(String(flat[i]), flat[i + 1]);
        noop(fromBinary(schema, fields.get('payload') ?? Buffer.alloc(0)));
        ids.push(id.toString());
      }
    }
    await redis.xack(stream, group, ...ids);
    handled += ids.length;
  }
  return handled;
}

function noop(_value) {}
