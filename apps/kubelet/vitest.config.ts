import { nodeagentProject } from '../../tools/build/vitest-preset.ts';

// Named after the binary: "kubelet" is the library's project name.
export default nodeagentProject('nodeagent-kubelet');
