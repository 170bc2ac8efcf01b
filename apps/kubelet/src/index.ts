// Public surface of nodeagent-kubelet.
export {};
