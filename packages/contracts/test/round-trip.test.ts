import { create, equals, type Message, toBinary } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import {
  BuildFailedSchema,
  BuildStage,
  BuildStartedSchema,
  BuildSucceededSchema,
  decodeEvent,
  durationFromMs,
  durationMs,
  EventDecodeError,
  encodeEvent,
  eventRegistry,
  IndexingCompletedSchema,
  IndexingFailedSchema,
  nowTimestamp,
  RunFailedSchema,
  RunRequestedSchema,
  RunStartedSchema,
  RunSucceededSchema,
} from '../src/index.js';

const at = nowTimestamp();
const took = durationFromMs(1234);

// One fully populated example per event. The coverage test below fails when an
// event is added to proto/ without an example here.
const examples: Message[] = [
  create(RunRequestedSchema, {
    runId: 'run-1',
    repoUrl: 'https://example.com/repo.git',
    ref: 'main',
    requestedAt: at,
    requestedBy: { kind: 'api', id: 'alice' },
  }),
  create(BuildStartedSchema, { runId: 'run-1', startedAt: at, worker: 'builder-1' }),
  create(BuildSucceededSchema, {
    runId: 'run-1',
    commitSha: 'a'.repeat(40),
    workspace: 'run-1',
    duration: took,
    logTail: 'built\n',
    finishedAt: at,
    convention: 'npm',
  }),
  create(BuildFailedSchema, {
    runId: 'run-1',
    stage: BuildStage.BUILD,
    reason: 'build timed out after 5s',
    exit: { outcome: { case: 'timedOut', value: true } },
    logTail: 'compiling…',
    duration: took,
    finishedAt: at,
    commitSha: 'b'.repeat(40),
  }),
  create(RunStartedSchema, {
    runId: 'run-1',
    startedAt: at,
    command: ['npm', 'test'],
    worker: 'runner-1',
  }),
  create(RunSucceededSchema, {
    runId: 'run-1',
    exitCode: 0,
    duration: took,
    outputTail: 'ok',
    finishedAt: at,
  }),
  create(RunFailedSchema, {
    runId: 'run-1',
    reason: 'tests failed: exit code 1',
    exit: { outcome: { case: 'exitCode', value: 1 } },
    duration: took,
    outputTail: 'not ok 1',
    finishedAt: at,
  }),
  create(IndexingCompletedSchema, {
    runId: 'run-1',
    commitSha: 'c'.repeat(40),
    totalFiles: 3n,
    totalBytes: 300n,
    totalLines: 30n,
    languages: [{ language: 'TypeScript', files: 2n, bytes: 200n, lines: 20n }],
    largestFiles: [{ path: 'src/a.ts', bytes: 150n, lines: 15n, language: 'TypeScript' }],
    binaryFiles: 1n,
    manifests: ['package.json'],
    duration: took,
    finishedAt: at,
  }),
  create(IndexingFailedSchema, {
    runId: 'run-1',
    reason: 'ref not found',
    duration: took,
    finishedAt: at,
  }),
];

describe('event round trip', () => {
  it.each(examples.map((message) => [message.$typeName, message] as const))(
    '%s survives binary encoding unchanged',
    (typeName, message) => {
      const { typeName: encodedType, payload } = encodeEvent(message);
      const decoded = decodeEvent(encodedType, payload);

      const schema = eventRegistry.getMessage(typeName);
      expect(schema).toBeDefined();
      expect(encodedType).toBe(typeName);
      expect(decoded.$typeName).toBe(typeName);
      expect(schema && equals(schema, decoded, message)).toBe(true);
    },
  );

  it('has an example for every event in reporunner.events.v1', () => {
    const eventNames = [...eventRegistry]
      .filter((desc) => desc.kind === 'message' && desc.fields.some((f) => f.name === 'run_id'))
      .map((desc) => desc.typeName)
      .sort();
    expect(examples.map((m) => m.$typeName).sort()).toEqual(eventNames);
  });

  it('converts durations to and from milliseconds', () => {
    expect(durationMs(durationFromMs(61_005))).toBe(61_005);
    expect(durationFromMs(61_005).seconds).toBe(61n);
  });
});

describe('decoding bad input', () => {
  function decodeFailure(typeName: string, payload: Uint8Array): EventDecodeError {
    try {
      decodeEvent(typeName, payload);
    } catch (error) {
      if (error instanceof EventDecodeError) return error;
      throw error;
    }
    throw new Error('decodeEvent accepted the input');
  }

  it('rejects an unknown type name with a typed error', () => {
    const error = decodeFailure('reporunner.events.v1.NoSuchEvent', new Uint8Array());
    expect(error.failure).toBe('unknown-type');
    expect(error.typeName).toBe('reporunner.events.v1.NoSuchEvent');
    expect(error.message).toContain('NoSuchEvent');
  });

  it('rejects bytes that are not a valid message of the named type', () => {
    // A truncated varint field tag, then a field with an invalid wire type (7).
    for (const bytes of [[0x80], [0x0f, 0x01], [0x0a, 0x10, 0x41]]) {
      const error = decodeFailure(RunRequestedSchema.typeName, Uint8Array.from(bytes));
      expect(error.failure).toBe('invalid-payload');
      expect(error.name).toBe('EventDecodeError');
    }
  });

  it('rejects an event without a run id', () => {
    const payload = toBinary(RunRequestedSchema, create(RunRequestedSchema, { repoUrl: 'x' }));
    const error = decodeFailure(RunRequestedSchema.typeName, payload);
    expect(error.failure).toBe('missing-field');
  });

  it("rejects a payload of another type when it lacks the named type's run id", () => {
    const other = toBinary(
      IndexingCompletedSchema,
      create(IndexingCompletedSchema, { totalFiles: 5n }),
    );
    expect(decodeFailure(RunRequestedSchema.typeName, other).failure).not.toBe('unknown-type');
  });
});
