// Public surface of nodeagent-kube-proxy.
export {};
