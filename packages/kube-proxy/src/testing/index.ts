// `@nodeagent/kube-proxy/testing`: in-memory kernels for tests without root or a kernel module:
// the IPVS mode's kernel layers. For iptables, hand `iptablesExecutor(new FakeIptables())` to a
// proxier (FakeIptables from `@nodeagent/netfilter/testing`: it records payloads and injects failures).
export {
  FakeIpsets,
  FakeIpvs,
  FakeLinks,
  FakeSysctls,
  fakeKernel,
} from '../ipvs/fake-ipvs-kernel';
