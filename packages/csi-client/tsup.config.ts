import { libraryBuild } from '../../tools/build/tsup-preset';

// One entry: the client, the registration API and the service definitions share one codec.
export default libraryBuild({
  entry: { index: 'src/index.ts' },
});
