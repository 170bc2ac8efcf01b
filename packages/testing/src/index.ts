// Public surface of @nodeagent/testing: test doubles and helpers for node-agent tests.
export * from './apiserver/index';
export * from './netns/index';
