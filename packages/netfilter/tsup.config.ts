import { libraryBuild } from '../../tools/build/tsup-preset';

// The appliers at the root, the models at `./iptables` and `./nftables`, the fakes at `./testing`.
// Shared chunks keep one copy of each class across entries, so `instanceof` holds between them.
// shims: the CJS build needs import.meta.url to find relay/nfnetlink-relay.mjs (NetnsChannel).
export default libraryBuild({
  entry: {
    index: 'src/index.ts',
    iptables: 'src/iptables/index.ts',
    nftables: 'src/nftables/index.ts',
    testing: 'src/testing/index.ts',
  },
  splitting: true,
  shims: true,
});
