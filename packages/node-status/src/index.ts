// Public surface of @nodeagent/node-status.
export {};
