// `@nodeagent/kube-proxy/testing`: in-memory kernels for tests without root or a kernel module:
// the IPVS mode's kernel layers (IPVS itself is @nodeagent/ipvs/testing's FakeIpvsHandle). For iptables, hand `iptablesExecutor(new FakeIptables())` to a
// proxier (FakeIptables from `@nodeagent/netfilter/testing`: it records payloads and injects failures).
export { FakeIpsets, FakeLinks, FakeSysctls, fakeKernel } from '../ipvs/fake-ipvs-kernel';
