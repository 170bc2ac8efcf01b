// Public surface of @nodeagent/netfilter.
export {};
