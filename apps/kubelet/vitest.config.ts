import { nodeagentProject } from '../../tools/build/vitest-preset';

// Named after the binary: "kubelet" is the library's project name.
export default nodeagentProject('nodeagent-kubelet');
