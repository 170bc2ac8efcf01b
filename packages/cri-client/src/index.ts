// Public surface of @nodeagent/cri-client.
export {};
