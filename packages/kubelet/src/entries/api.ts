// @nodeagent/kubelet/api: The Kubernetes API shapes the kubelet reads (Pod, Container, volumes ...) and resource quantities.

export * from '../api/pod-level-resources';
export * from '../api/pod-types';
export { rfc3339 } from '../rfc3339';
