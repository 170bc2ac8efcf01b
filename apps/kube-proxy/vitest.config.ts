import { nodeagentProject } from '../../tools/build/vitest-preset';

export default nodeagentProject('nodeagent-kube-proxy');
