import { nodeagentProject } from '../../tools/build/vitest-preset.ts';

// Real-kernel tests start many short-lived iptables/nft processes; the preset's limits are far
// enough from a normal run for a loaded 2-core machine.
export default nodeagentProject('netfilter');
