// Public surface of @nodeagent/testing: test doubles and helpers for node-agent tests.
export * from './apiserver/index';
export * from './netns/index';
/** Memory and CPU of another process (RSS from /proc, V8 heap via a preload), for RSS benchmarks. */
export * as processMemory from './process-memory';
