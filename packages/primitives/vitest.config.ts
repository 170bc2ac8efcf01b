import { nodeagentProject } from '../../tools/build/vitest-preset';

export default nodeagentProject('primitives');
