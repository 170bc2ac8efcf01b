import { libraryBuild } from '../../tools/build/tsup-preset';

// The library and the `nodeagent-test-apiserver` bin.
export default libraryBuild({
  entry: { index: 'src/index.ts', 'apiserver-cli': 'src/cli/apiserver-main.ts' },
});
