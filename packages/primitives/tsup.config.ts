import { libraryBuild } from '../../tools/build/tsup-preset';

export default libraryBuild();
