// Unit tests of decoding and handler outcomes: no Redis needed.
import { randomUUID } from 'node:crypto';
import { toBinary } from '@bufbuild/protobuf';
import { BuildSucceededSchema, RunRequestedSchema } from '@reporunner/contracts';
import { describe, expect, it } from 'vitest';
import type { HandlerContext } from '../src/consumer-options.js';
import { type Delivery, DeliveryRunner } from '../src/delivery-runner.js';
import { encodeEntryFields } from '../src/entry-fields.js';
import { PermanentError, silentLogger } from '../src/index.js';
import { buildSucceeded, runRequested } from './helpers.js';

function delivery(fields: (string | Buffer)[], attempt = 1): Delivery {
  const map = new Map<string, Buffer>();
  for (let i = 0; i + 1 < fields.length; i += 2) {
    map.set(String(fields[i]), Buffer.from(fields[i + 1] ?? ''));
  }
  return { id: '1-0', fields: map, attempt };
}

function goodEntry(attempt = 1): Delivery {
  const payload = toBinary(RunRequestedSchema, runRequested('run-1'));
  return delivery(
    encodeEntryFields(
      {
        typeName: RunRequestedSchema.typeName,
        eventId: randomUUID(),
        producer: 'p',
        publishedAt: new Date('2026-12-04T15:40:00.123Z'),
      },
      payload,
    ),
    attempt,
  );
}

function runner(handler: (context: HandlerContext) => Promise<boolean>, maxAttempts = 3) {
  return new DeliveryRunner({
    handles: [RunRequestedSchema],
    handler: (_event, context) => handler(context),
    maxAttempts,
    logger: silentLogger(),
    signal: new AbortController().signal,
  });
}

describe('DeliveryRunner', () => {
  it('when the handler resolves true or false or throws, then the outcome is ack, retry or retry with the error', async () => {
    expect(await runner(async () => true).run(goodEntry())).toEqual({ kind: 'ack' });
    expect(await runner(async () => false).run(goodEntry())).toEqual({
      kind: 'retry',
      error: 'the handler returned false',
    });
    const thrown = runner(async () => {
      throw new Error('disk full');
    });
    expect(await thrown.run(goodEntry())).toEqual({ kind: 'retry', error: 'disk full' });
  });

  it('when the handler throws PermanentError, then the outcome is a dead letter', async () => {
    const permanent = runner(async () => {
      throw new PermanentError('no such repository');
    });
    expect(await permanent.run(goodEntry())).toEqual({
      kind: 'dead-letter',
      reason: 'permanent-error',
      error: 'no such repository',
    });
  });

  it('when a known type is not handled, then it is skipped without a handler call', async () => {
    let calls = 0;
    const payload = toBinary(BuildSucceededSchema, buildSucceeded('run-2'));
    const entry = delivery([
      'type',
      BuildSucceededSchema.typeName,
      'payload',
      Buffer.from(payload),
    ]);
    const outcome = await runner(async () => {
      calls += 1;
      return true;
    }).run(entry);
    expect(outcome).toEqual({ kind: 'skip' });
    expect(calls).toBe(0);
  });

  it('when the delivery count is past the budget, then it is dead-lettered without a handler call', async () => {
    let calls = 0;
    const outcome = await runner(async () => {
      calls += 1;
      return true;
    }).run(goodEntry(4));
    expect(outcome).toEqual({
      kind: 'dead-letter',
      reason: 'max-attempts',
      error: 'delivered 4 times without a result',
    });
    expect(calls).toBe(0);
  });

  it('when the handler runs, then its context carries the entry fields', async () => {
    let seen: HandlerContext | undefined;
    await runner(async (context) => {
      seen = context;
      return true;
    }).run(goodEntry(2));
    expect(seen).toMatchObject({
      entryId: '1-0',
      typeName: RunRequestedSchema.typeName,
      attempt: 2,
      producer: 'p',
      publishedAt: new Date('2026-12-04T15:40:00.123Z'),
      traceparent: undefined,
    });
  });
});
