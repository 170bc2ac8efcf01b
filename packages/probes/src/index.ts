// Public surface of @nodeagent/probes.
export {};
