import { defineLifecycleScenario } from '../scenario/lifecycle-scenario';
import { netnsConnector } from './netns-connector';
import { startPrivateContainerd } from './private-containerd';

defineLifecycleScenario('a real containerd (tools/containerd)', async () => {
  const c = await startPrivateContainerd();
  if (!c.images) throw new Error('startContainerd did not import the local images');
  return {
    endpoint: c.endpoint,
    pauseImage: c.images.pause.name,
    busyboxImage: c.images.busybox.name,
    podSubnet: c.podSubnet,
    logRoot: `${c.baseDir}/pods`,
    // containerd 1.6 answers GetContainerEvents with UNIMPLEMENTED.
    containerEvents: false,
    connector: netnsConnector(c.netnsPath),
    teardown: () => c.stop(),
  };
});
