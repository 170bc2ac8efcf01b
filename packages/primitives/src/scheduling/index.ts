// @nodeagent/primitives/scheduling: what the scheduler and the kubelet's admission both ask of a
// pod and a node: required node affinity (a pod's, and a PersistentVolume's), and taints against
// tolerations.
export {
  type NodeAffinityNode,
  type NodeAffinityPod,
  type NodeSelectorRequirement,
  type NodeSelectorTerm,
  nodeSelectorTermsMatchLabels,
  requiredNodeAffinityMatches,
} from './node-affinity';
export { findUntoleratedTaint, type Taint, type Toleration, toleratesTaint } from './taint-toleration';
