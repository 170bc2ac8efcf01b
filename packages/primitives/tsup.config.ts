import { libraryBuild } from '../../tools/build/tsup-preset';

// The root plus `@nodeagent/primitives/klog` (log formatting stays out of the tiny root).
export default libraryBuild({
  entry: { index: 'src/index.ts', klog: 'src/klog.ts' },
});
