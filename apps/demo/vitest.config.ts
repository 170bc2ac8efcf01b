import { nodeagentProject } from '../../tools/build/vitest-preset';

export default nodeagentProject('nodeagent-demo', { test: { testTimeout: 180_000, hookTimeout: 60_000 } });
