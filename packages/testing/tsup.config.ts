import { libraryBuild } from '../../tools/build/tsup-preset';

// The library (root, `./apiserver`, `./netns`, `./csi`, `./dra`) and the `nodeagent-test-apiserver` bin. Shared
// chunks keep one copy of each class across the entries, so `instanceof` holds between them.
export default libraryBuild({
  entry: {
    index: 'src/index.ts',
    apiserver: 'src/apiserver/index.ts',
    netns: 'src/netns/index.ts',
    csi: 'src/csi/index.ts',
    dra: 'src/dra/index.ts',
    'apiserver-cli': 'src/cli/apiserver-main.ts',
  },
  splitting: true,
});
