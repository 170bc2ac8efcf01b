// The userspace proxier as its own process for the benchmark (kube-proxy is one; sharing the
// client's event loop would charge the proxy's work to the client). argv[2] is JSON:
// { bindOnly, service, slice }. Prints "ready" once synced; exits when stdin closes.
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { IptablesClient } from '@nodeagent/netfilter';
import type { Wire } from '@nodeagent/primitives';
import { UserspaceProxier } from '../src/userspace/index';

const { bindOnly, service, slice } = JSON.parse(process.argv[2] ?? '{}') as {
  bindOnly: boolean;
  service: Wire<V1Service>;
  slice: Wire<V1EndpointSlice>;
};
const proxier = new UserspaceProxier({
  family: 'IPv4',
  nodeName: 'bench',
  bindOnly,
  ...(bindOnly ? {} : { iptables: new IptablesClient() }),
});
proxier.onServiceAdd(service);
proxier.onEndpointSliceAdd(slice);
proxier.onServicesSynced();
proxier.onEndpointSlicesSynced();
const result = await proxier.syncProxyRules();
const errors = [...proxier.serviceErrors().values()].map((e) => e.message);
if (!result?.ok || errors.length > 0) {
  process.stderr.write(`proxier failed: ${errors.join('; ') || String(result?.error)}\n`);
  process.exit(1);
}
process.stdout.write('ready\n');
process.stdin.resume();
process.stdin.on('end', () => {
  void proxier.stop().then(() => process.exit(0));
});
