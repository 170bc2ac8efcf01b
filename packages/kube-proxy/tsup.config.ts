import { libraryBuild } from '../../tools/build/tsup-preset';

// The root entry plus one per subpath export (package.json "exports"): each mode, the full
// config / model / runtime surfaces and the fakes (`@nodeagent/kube-proxy/testing`).
export default libraryBuild({
  entry: {
    index: 'src/index.ts',
    config: 'src/config/index.ts',
    model: 'src/model/index.ts',
    runtime: 'src/runtime/index.ts',
    iptables: 'src/iptables/index.ts',
    nftables: 'src/nftables/index.ts',
    ipvs: 'src/ipvs/index.ts',
    userspace: 'src/userspace/index.ts',
    testing: 'src/testing/index.ts',
  },
  // Shared chunks, so a class (KubeProxyError, ProxierBase…) is one class whichever entry a
  // consumer imports it through: `instanceof` holds across subpaths.
  splitting: true,
});
