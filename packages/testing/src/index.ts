// Public surface of @nodeagent/testing.
export {};
