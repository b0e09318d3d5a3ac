export * from './free-port.js';
export * from './test-redis.js';
