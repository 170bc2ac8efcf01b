import { libraryBuild } from '../../tools/build/tsup-preset';

// The informer and single API calls at the root; the API-error predicates at /errors. Shared
// chunks keep one copy of each class across entries, so `instanceof` holds between them.
export default libraryBuild({
  entry: {
    index: 'src/index.ts',
    errors: 'src/errors/index.ts',
  },
  splitting: true,
});
