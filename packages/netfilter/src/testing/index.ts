// @nodeagent/netfilter/testing: in-memory iptables and nftables with the clients' interfaces, for
// tests that must not touch a kernel.
export { FakeIptables } from '../iptables/fake';
export { FakeNftables } from '../nftables/fake';
