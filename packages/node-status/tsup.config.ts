import { libraryBuild } from '../../tools/build/tsup-preset';

// The reporter at the root; the Node object's parts, machine reading and the errors at subpaths.
// Shared chunks keep one copy of each class across entries, so `instanceof` holds between them.
export default libraryBuild({
  entry: {
    index: 'src/index.ts',
    'node-object': 'src/node-object/index.ts',
    machine: 'src/machine/index.ts',
    errors: 'src/errors/index.ts',
  },
  splitting: true,
});
