import { create } from '@bufbuild/protobuf';
import { type ProcessExit, ProcessExitSchema } from '@reporunner/contracts';
import type { ProcessOutcome } from './run-process.js';

/** The contract's ProcessExit for a runProcess outcome; undefined when nothing ran. */
export function toProcessExit(outcome: ProcessOutcome | undefined): ProcessExit | undefined {
  switch (outcome?.kind) {
    case 'exit':
      return create(ProcessExitSchema, { outcome: { case: 'exitCode', value: outcome.exitCode } });
    case 'timeout':
      return create(ProcessExitSchema, { outcome: { case: 'timedOut', value: true } });
    case 'signal':
      return create(ProcessExitSchema, { outcome: { case: 'signal', value: outcome.signal } });
    default:
      return undefined;
  }
}
