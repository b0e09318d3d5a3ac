import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { create } from '@bufbuild/protobuf';
import {
  type BuildSucceeded,
  BuildSucceededSchema,
  type RunRequested,
  RunRequestedSchema,
  type RunStarted,
  RunStartedSchema,
} from '@reporunner/contracts';
import { startTestRedis, type TestRedis } from '@reporunner/testing';
import type { Redis } from 'ioredis';
import { afterAll } from 'vitest';
import { createRedis } from '../src/index.js';

/** Names no other test uses, so tests share one Redis safely. */
export function uniqueNames(prefix: string): { stream: string; group: string; dlq: string } {
  const suffix = randomUUID().slice(0, 8);
  return {
    stream: `test:${prefix}:${suffix}:stream`,
    group: `test:${prefix}:${suffix}:group`,
    dlq: `test:${prefix}:${suffix}:dlq`,
  };
}

export function runRequested(runId: string): RunRequested {
  return create(RunRequestedSchema, {
    runId,
    repoUrl: `https://example.test/${runId}.git`,
    ref: 'main',
  });
}

export function buildSucceeded(runId: string): BuildSucceeded {
  return create(BuildSucceededSchema, { runId, commitSha: 'abc123', workspace: `/w/${runId}` });
}

export function runStarted(runId: string): RunStarted {
  return create(RunStartedSchema, { runId, worker: 'w1' });
}

/**
 * Polls `condition` until it holds; throws with `what` after `timeoutMs`.
 * A wait for a state, not a timing assertion: the bound only stops a hung test.
 */
export async function waitFor(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** No backoff: retries at once, for tests about attempt counting. */
export const noBackoff = (): number => 0;

/**
 * One Redis for the calling test file: started while the file is collected
 * and closed by an afterAll hook. Tests in the file keep apart through
 * uniqueNames().
 */
export async function redisForThisFile(): Promise<{ server: TestRedis; redis: Redis }> {
  const server = await startTestRedis();
  const redis = createRedis(server.url);
  afterAll(async () => {
    redis.disconnect();
    await server.close();
  });
  return { server, redis };
}
