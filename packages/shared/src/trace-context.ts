import { type Context, context, propagation, ROOT_CONTEXT } from '@opentelemetry/api';

/**
 * The W3C `traceparent` of the active OpenTelemetry context, or undefined when
 * no trace is active or no propagator is registered (the API is a no-op
 * until an SDK is set up, so this costs nothing in a service without tracing).
 */
export function activeTraceparent(): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

/** The context a consumer runs a handler in: the producer's trace, if any. */
export function contextFromTraceparent(traceparent: string | undefined): Context {
  if (traceparent === undefined) return context.active();
  return propagation.extract(ROOT_CONTEXT, { traceparent });
}
