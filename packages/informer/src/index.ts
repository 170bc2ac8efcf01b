// Public surface of @nodeagent/informer.
export {};
