import { libraryBuild } from '../../tools/build/tsup-preset';

// Four entries: the client, the generated messages (`@nodeagent/cri-client/types`), the fake runtime
// (`@nodeagent/cri-client/testing`) and the CLI bin. Shared chunks: the generated codec is in
// one file instead of a copy per entry, and a class is one class across the entries.
export default libraryBuild({
  splitting: true,
  entry: {
    index: 'src/index.ts',
    types: 'src/types/index.ts',
    testing: 'src/testing/index.ts',
    cli: 'src/cli/main.ts',
  },
});
