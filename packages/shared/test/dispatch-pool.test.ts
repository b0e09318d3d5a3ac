// Unit tests of the dispatch pool: no Redis needed.
import { describe, expect, it } from 'vitest';
import { ConsumerState } from '../src/consumer-state.js';
import type { Delivery } from '../src/delivery-runner.js';
import { DispatchPool } from '../src/dispatch-pool.js';
import { silentLogger } from '../src/index.js';

function delivery(id: string, attempt = 1): Delivery {
  return { id, fields: new Map(), attempt };
}

function runningPool(concurrency: number) {
  const state = new ConsumerState();
  state.phase = 'running';
  const started: Delivery[] = [];
  const pool = new DispatchPool({
    concurrency,
    prefetch: 0,
    state,
    logger: silentLogger(),
    process: (next) => {
      started.push(next);
      return new Promise<void>(() => {});
    },
  });
  return { pool, started };
}

describe('DispatchPool', () => {
  it('when an entry it already holds is dispatched again (own pending rescan racing an idle claim), then only one handler runs it', () => {
    const { pool, started } = runningPool(4);

    pool.dispatch(delivery('1-0'));
    pool.dispatch(delivery('1-0', 2));

    expect(started.map((next) => next.id)).toEqual(['1-0']);
    expect(pool.active).toBe(1);
    expect(pool.freeCapacity()).toBe(3);
  });

  it('when different entries are dispatched, then each starts up to the concurrency', () => {
    const { pool, started } = runningPool(2);

    for (const id of ['1-0', '2-0', '3-0']) pool.dispatch(delivery(id));

    expect(started.map((next) => next.id)).toEqual(['1-0', '2-0']);
    expect(pool.held).toEqual(new Set(['1-0', '2-0', '3-0']));
  });
});
