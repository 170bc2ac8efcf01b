import { nodeagentProject } from './build/vitest-preset.ts';

// The real-component toolbox: each script's own tests (they need root and Debian packages).
export default nodeagentProject('tools', {
  test: { include: ['**/*.test.ts'], exclude: ['**/node_modules/**'] },
});
