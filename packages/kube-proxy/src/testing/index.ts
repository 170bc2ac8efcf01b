// `@nodeagent/kube-proxy/testing`: in-memory kernels for tests without root or a kernel module —
// an IptablesExecutor over @nodeagent/netfilter's FakeIptables (recording payloads, injecting
// failures), and the IPVS mode's kernel layers.
export {
  FakeIpsets,
  FakeIpvs,
  FakeLinks,
  FakeSysctls,
  fakeKernel,
} from '../ipvs/fake-ipvs-kernel';
export { FakeIptables } from '../shared/fake-iptables';
