import { nodeagentProject } from '../../tools/build/vitest-preset.ts';

export default nodeagentProject('csi-client');
