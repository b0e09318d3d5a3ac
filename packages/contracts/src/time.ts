import { create } from '@bufbuild/protobuf';
import {
  type Duration,
  DurationSchema,
  type Timestamp,
  timestampFromMs,
  timestampMs,
} from '@bufbuild/protobuf/wkt';

/** A google.protobuf.Timestamp for the current time. */
export function nowTimestamp(): Timestamp {
  return timestampFromMs(Date.now());
}

/** A google.protobuf.Duration of `ms` milliseconds. */
export function durationFromMs(ms: number): Duration {
  const whole = Math.floor(ms);
  return create(DurationSchema, {
    seconds: BigInt(Math.floor(whole / 1000)),
    nanos: (whole % 1000) * 1_000_000,
  });
}

/** Milliseconds in a google.protobuf.Duration. */
export function durationMs(duration: Duration): number {
  return Number(duration.seconds) * 1000 + Math.round(duration.nanos / 1_000_000);
}

export { timestampFromMs, timestampMs };
