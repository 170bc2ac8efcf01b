import { nodeagentProject } from '../../tools/build/vitest-preset.ts';

// The end-to-end suites, which each run the whole box, share one test file
// (test/real/end-to-end.test.ts) so that they never overlap; the project's other files run in
// parallel as everywhere else.
export default nodeagentProject('nodeagent-demo', {
  test: { testTimeout: 180_000, hookTimeout: 60_000 },
});
