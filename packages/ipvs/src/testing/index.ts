// @nodeagent/ipvs/testing: an in-memory IPVS table with Ipvs's interface (IpvsHandle), for tests
// that must not need root or the ip_vs module.
export { FakeIpvsHandle } from './fake-ipvs-handle';
