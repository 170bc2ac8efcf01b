import { nodeagentProject } from '../../tools/build/vitest-preset.ts';

export default nodeagentProject('plugin-api');
