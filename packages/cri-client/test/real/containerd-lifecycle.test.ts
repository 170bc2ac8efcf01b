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
    // NODEAGENT_CONTAINERD picks the version; 1.6 answers GetContainerEvents with UNIMPLEMENTED
    // and a stop of an unknown ID with NotFound, 2.1 serves events and stops unknown IDs quietly.
    containerEvents: c.version !== '1.6',
    stopOfUnknownId: c.version === '1.6' ? 'not-found' : 'ok',
    connector: netnsConnector(c.netnsPath),
    teardown: () => c.stop(),
  };
});
