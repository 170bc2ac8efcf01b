import { nodeagentProject } from '../../tools/build/vitest-preset';

// Real-kernel tests start many short-lived iptables/nft processes: on a loaded 2-core machine
// a case can take several seconds, so allow more than vitest's default 5 s.
export default nodeagentProject('netfilter', { test: { testTimeout: 30_000, hookTimeout: 30_000 } });
