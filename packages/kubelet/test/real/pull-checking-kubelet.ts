import { join } from 'node:path';
import type { CriClient } from '@nodeagent/cri-client';
import { systemClock } from '@nodeagent/primitives';
import type { Pod, Secret } from '../../src/api/pod-types';
import { parseKubeletConfiguration } from '../../src/config/kubelet-configuration';
import { criPodRuntime } from '../../src/cri/cri-pod-runtime';
import { imagePullManagerFromConfig } from '../../src/images/image-pull-manager-from-config';
import { Kubelet, type KubeletApi, type KubeletImages } from '../../src/kubelet';

/** What a kubelet that checks image pulls (pulled records, pull secrets) on a private containerd needs. */
export interface PullCheckingKubeletOptions {
  client: CriClient;
  /** The test's directory: the kubelet's root (with its pulled records) and pod logs go below it. */
  dir: string;
  nodeName: string;
  hostIP: string;
  /** Where the kubelet finds pull secrets. */
  getSecret: (namespace: string, name: string) => Secret | undefined;
  credentialProviders?: KubeletImages['credentialProviders'];
  recordEvent?: KubeletApi['recordEvent'];
  /** The kubelet goes in here before it starts, so the test's tear-down stops it even when starting fails. */
  started: Kubelet[];
}

/**
 * A started kubelet with the image pull manager of the default configuration, its records under
 * `dir/root`: a new one on the same `dir` reads the records an earlier one wrote (a restart).
 */
export async function startPullCheckingKubelet(options: PullCheckingKubeletOptions): Promise<Kubelet> {
  const config = parseKubeletConfiguration({
    podLogsDir: join(options.dir, 'logs'),
    volumePluginDir: join(options.dir, 'volume-plugins'),
  }).config;
  const rootDir = join(options.dir, 'root');
  const imagePullManager = await imagePullManagerFromConfig(config, {
    rootDir,
    listImages: async () => (await options.client.listImages({})).images,
    clock: systemClock,
  });
  const kubelet = new Kubelet({
    node: {
      name: options.nodeName,
      rootDir,
      hostIPs: [options.hostIP],
      memoryCapacity: 2 * 1024 ** 3,
    },
    runtime: criPodRuntime(options.client),
    config,
    api: {
      objects: {
        getConfigMap: async () => undefined,
        getSecret: async (namespace, name) => options.getSecret(namespace, name),
      },
      recordEvent: options.recordEvent,
    },
    images: {
      pullManager: imagePullManager,
      credentialProviders: options.credentialProviders,
    },
    pacing: {
      relistPeriodMs: 200,
      retryMs: 500,
    },
  });
  options.started.push(kubelet);
  await kubelet.start();
  return kubelet;
}

/** A pod in `default` whose one container `app` sleeps in `image`, pulled as `imagePullPolicy` says. */
export function sleepingPod(options: {
  name: string;
  uid: string;
  image: string;
  imagePullPolicy: 'Never' | 'IfNotPresent' | 'Always';
  imagePullSecrets: string[];
  serviceAccountName?: string;
}): Pod {
  return {
    metadata: { name: options.name, namespace: 'default', uid: options.uid },
    spec: {
      ...(options.serviceAccountName ? { serviceAccountName: options.serviceAccountName } : {}),
      imagePullSecrets: options.imagePullSecrets.map((name) => ({ name })),
      containers: [
        {
          name: 'app',
          image: options.image,
          imagePullPolicy: options.imagePullPolicy,
          command: ['sh', '-c', 'sleep 3600'],
        },
      ],
      terminationGracePeriodSeconds: 2,
    },
  };
}

/** The waiting state of the pod's first container as the kubelet reports it, if it is waiting. */
export const firstContainerWaiting = (kubelet: Kubelet, p: Pod) =>
  kubelet.getPodStatus(p.metadata.uid!)?.containerStatuses?.[0]?.state.waiting;
