// Public surface of @nodeagent/ipvs.
export {};
