import { libraryBuild } from '../../tools/build/tsup-preset';

// Three entries: the client, the fake runtime (`@nodeagent/cri-client/testing`) and the CLI bin.
export default libraryBuild({
  entry: { index: 'src/index.ts', testing: 'src/testing/index.ts', cli: 'src/cli/main.ts' },
});
