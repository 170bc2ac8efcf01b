import { nodeagentProject } from '../../tools/build/vitest-preset.ts';

// One file at a time: the end-to-end tests each run the whole box, which takes the machine-wide
// demo lock (a second run at the same time exits 2) and most of a small machine's CPU.
export default nodeagentProject('nodeagent-demo', {
  test: { testTimeout: 180_000, hookTimeout: 60_000, fileParallelism: false },
});
