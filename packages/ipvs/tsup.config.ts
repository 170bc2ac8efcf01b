import { libraryBuild } from '../../tools/build/tsup-preset';

// shims: the CJS build needs import.meta.url to find relay/netns-relay.mjs.
export default libraryBuild({ shims: true });
