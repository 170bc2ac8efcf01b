import { libraryBuild } from '../../tools/build/tsup-preset';

// shims: the CJS build needs import.meta.url to find relay/netns-relay.mjs.
// Three entries: Ipvs at the root, the wire level at `./netlink`, the fake at `./testing`; shared chunks keep one copy of
// each class across them, so `instanceof` holds between the two.
export default libraryBuild({
  entry: { index: 'src/index.ts', netlink: 'src/netlink/index.ts', testing: 'src/testing/index.ts' },
  splitting: true,
  shims: true,
});
