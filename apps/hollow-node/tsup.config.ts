import { libraryBuild } from '../../tools/build/tsup-preset';

export default libraryBuild({ entry: ['src/index.ts', 'src/cli.ts'] });
