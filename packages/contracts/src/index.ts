export * from './event-decode-error.js';
export * from './gen/reporunner/events/v1/common_pb.js';
export * from './gen/reporunner/events/v1/indexing_events_pb.js';
export * from './gen/reporunner/events/v1/run_events_pb.js';
export * from './registry.js';
export * from './time.js';
