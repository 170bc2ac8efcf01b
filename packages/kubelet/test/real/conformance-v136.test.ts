import { DiscoveryV1Api, type V1Container, type V1Pod, Watch } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { Pod } from '../../src/api/pod-types';
import { criImageService } from '../../src/images/image-service';
import { type NodeHarness, runningPod, useNodeHarness, waitFor } from './node-harness';

/**
 * The node-facing specs the v1.36 [Conformance] selection adds (issue #28), run step by step
 * against our kubelet on a real containerd through the in-process API server: upstream's
 * test/e2e/node/pods.go "Pod Generation", test/e2e/common/node/pods.go "lifecycle of Pods and
 * PodStatus", and the ConfigMap / Secret envFrom prefix specs. Clients go over HTTP (CoreV1Api)
 * like the e2e framework's clientset, not through the registry.
 */
let node: NodeHarness;
useNodeHarness((started) => {
  node = started;
});

const namespace = 'default';
const sleepForever = "trap 'exit 0' TERM; while true; do sleep 1; done";

/** Marks the TERM handler as installed, for a readiness probe to see. */
const trapThenMark = "trap 'exit 0' TERM; touch /tmp/trapped";

function ready(pod: Pod): Pod | undefined {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? pod : undefined;
}

/** e2epod PodClient.Update: GET, mutate, PUT, again on 409 Conflict (the kubelet writes status meanwhile). */
async function updatePod(name: string, mutate: (pod: V1Pod) => void): Promise<V1Pod> {
  for (;;) {
    const pod = await node.core.readNamespacedPod({ name, namespace });
    mutate(pod);
    try {
      return await node.core.replaceNamespacedPod({ name, namespace, body: pod });
    } catch (error) {
      if ((error as { code?: number }).code !== 409) throw error;
    }
  }
}

/**
 * A second image name that runs the same commands: busybox by its image ID. The specs switch
 * between two images that both run (agnhost, nginx, httpd); the private containerd holds only
 * busybox and pause, and pause has no shell.
 */
async function busyboxById(): Promise<string> {
  const images = await criImageService(node.client).listImages();
  const busybox = images.find((image) => image.repoTags.includes(node.busybox));
  if (!busybox) throw new Error(`${node.busybox} is not in the private containerd`);
  return busybox.id;
}

/** The first container of `list` in a pod read from the API (the specs' `Containers[0]`). */
function firstContainer(pod: V1Pod, list: 'containers' | 'initContainers'): V1Container {
  const container = pod.spec?.[list]?.[0];
  if (!container) throw new Error(`${pod.metadata?.name} has no ${list}[0]`);
  return container;
}

/** e2epod.WaitForPodObservedGeneration: status.observedGeneration reaches `generation`. */
function waitObservedGeneration(name: string, generation: number): Promise<Pod> {
  return node.waitPod(name, `status.observedGeneration ${generation}`, (pod) =>
    (pod.status as { observedGeneration?: number } | undefined)?.observedGeneration === generation
      ? pod
      : undefined,
  );
}

type ConditionWithGeneration = { type: string; status: string; observedGeneration?: number };

/** e2epod.WaitForPodConditionObservedGeneration for each of `types`. */
function waitConditionsObserved(name: string, types: string[], generation: number): Promise<Pod> {
  return node.waitPod(name, `conditions ${types.join(',')} at observedGeneration ${generation}`, (pod) => {
    const conditions = (pod.status?.conditions ?? []) as ConditionWithGeneration[];
    const observed = types.every(
      (type) => conditions.find((c) => c.type === type)?.observedGeneration === generation,
    );
    return observed ? pod : undefined;
  });
}

describe('v1.36 conformance: Pod Generation', { timeout: 300_000 }, () => {
  it('pod generation should start at 1 and increment per update', async () => {
    const name = 'pod-generation-updates';
    await node.core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name },
        spec: {
          nodeName: node.nodeName,
          terminationGracePeriodSeconds: 1,
          initContainers: [{ name: 'init-container', image: node.busybox, command: ['true'] }],
          containers: [{ name: 'c', image: node.busybox, command: ['sh', '-c', sleepForever] }],
        },
      },
    });
    const started = await node.waitPod(name, 'Running', runningPod);
    expect(started.metadata.generation).toBe(1);
    const image2 = await busyboxById();
    const steps: { what: string; mutate: (pod: V1Pod) => void; bump: boolean }[] = [
      { what: 'empty update', mutate: () => undefined, bump: false },
      {
        what: 'tolerations',
        mutate: (pod) => {
          pod.spec!.tolerations = [
            { key: 'foo-conf', operator: 'Equal', value: 'bar', effect: 'NoSchedule' },
          ];
        },
        bump: true,
      },
      {
        what: 'activeDeadlineSeconds',
        mutate: (pod) => {
          pod.spec!.activeDeadlineSeconds = 5000;
        },
        bump: true,
      },
      {
        what: 'container image',
        mutate: (pod) => {
          firstContainer(pod, 'containers').image = image2;
        },
        bump: true,
      },
      {
        what: 'init container image',
        mutate: (pod) => {
          firstContainer(pod, 'initContainers').image = image2;
        },
        bump: true,
      },
      {
        what: 'annotations only',
        mutate: (pod) => {
          pod.metadata!.annotations = { key: 'value' };
        },
        bump: false,
      },
      {
        what: 'client-set generation',
        mutate: (pod) => {
          pod.metadata!.generation = 1;
        },
        bump: false,
      },
    ];
    let expected = 1;
    for (const step of steps) {
      const updated = await updatePod(name, step.mutate);
      if (step.bump) expected++;
      expect({ step: step.what, generation: updated.metadata?.generation }).toEqual({
        step: step.what,
        generation: expected,
      });
      await waitObservedGeneration(name, expected);
    }
  });

  it('custom-set generation on new pods and graceful delete', async () => {
    const name = 'pod-generation-custom';
    const created = await node.core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name, labels: { time: String(process.hrtime.bigint()) }, generation: 100 },
        spec: {
          nodeName: node.nodeName,
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: 'c',
              image: node.busybox,
              command: ['sh', '-c', `${trapThenMark}; while true; do sleep 1; done`],
              readinessProbe: { exec: { command: ['test', '-e', '/tmp/trapped'] }, periodSeconds: 1 },
            },
          ],
        },
      },
    });
    expect(created.metadata?.generation).toBe(1);
    // Ready, not just Running: the shell is PID 1, which the kernel spares a TERM it has no handler
    // for, so a delete before `trap` ran would wait out the whole 60 s grace (seen on a loaded CI).
    await node.waitPod(name, 'Ready', ready);
    // A graceful DELETE answers 200 with the pod as marked for deletion: generation bumped once.
    const deleting = await node.core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 60 });
    expect(deleting.metadata?.deletionGracePeriodSeconds).toBe(60);
    expect(deleting.metadata?.generation).toBe(2);
    await waitFor('pod-generation-custom removed', () => (node.getPod(name) ? undefined : true), 60_000);
  });

  it('issue 500 podspec updates and verify generation and observedGeneration eventually converge', async () => {
    const name = 'pod-generation-500';
    await node.core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name },
        spec: {
          nodeName: node.nodeName,
          terminationGracePeriodSeconds: 1,
          activeDeadlineSeconds: 5000,
          containers: [{ name: 'c', image: node.busybox, command: ['sh', '-c', sleepForever] }],
        },
      },
    });
    await node.waitPod(name, 'Running', runningPod);
    for (let i = 0; i < 499; i++) {
      await updatePod(name, (pod) => {
        pod.spec!.activeDeadlineSeconds! -= 1;
      });
    }
    const converged = await waitObservedGeneration(name, 500);
    expect(converged.metadata.generation).toBe(500);
    expect(converged.spec.activeDeadlineSeconds).toBe(5000 - 499);
    // The kubelet-owned conditions carry the generation they were computed for.
    await waitConditionsObserved(name, ['Initialized', 'Ready', 'ContainersReady'], 500);
    expect(node.getPod(name)?.status?.phase).toBe('Running');
  });

  it('pod observedGeneration field set in pod conditions', async () => {
    const name = 'pod-generation-conditions';
    const conditionTypes = ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'];
    await node.core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name },
        spec: {
          nodeName: node.nodeName,
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: 'c',
              image: 'localhost/some-image-that-doesnt-exist',
              command: ['sh', '-c', sleepForever],
            },
          ],
        },
      },
    });
    await waitConditionsObserved(name, conditionTypes, 1);
    await node.waitPod(name, 'image pull failure', (pod) => {
      const reason = pod.status?.containerStatuses?.[0]?.state.waiting?.reason;
      return reason === 'ErrImagePull' || reason === 'ImagePullBackOff' ? reason : undefined;
    });
    await updatePod(name, (pod) => {
      firstContainer(pod, 'containers').image = node.busybox;
    });
    const observed = await waitConditionsObserved(name, conditionTypes, 2);
    expect(observed.metadata.generation).toBe(2);
  });
});

describe('v1.36 conformance: Pods should run through the lifecycle of Pods and PodStatus', {
  timeout: 300_000,
}, () => {
  it('create, watch, patch, replace the status, delete by collection', async () => {
    const name = 'pod-test';
    const selector = 'test-pod-static=true';
    const events: { type: string; pod: V1Pod }[] = [];
    const watching = await new Watch(node.api.kubeConfig()).watch(
      `/api/v1/namespaces/${namespace}/pods`,
      { labelSelector: selector },
      (type, pod: V1Pod) => {
        events.push({ type, pod });
      },
      () => undefined,
    );
    try {
      await node.core.createNamespacedPod({
        namespace,
        body: {
          metadata: { name, labels: { 'test-pod-static': 'true' } },
          spec: {
            nodeName: node.nodeName,
            terminationGracePeriodSeconds: 1,
            containers: [{ name, image: node.busybox, command: ['sh', '-c', sleepForever] }],
          },
        },
      });
      await waitFor('watch: pod-test Running', () =>
        events.some((e) => e.pod.metadata?.name === name && e.pod.status?.phase === 'Running')
          ? true
          : undefined,
      );

      // Strategic merge patch: a new label and a new image for the container.
      const image2 = await busyboxById();
      const seenBeforePatch = events.length;
      node.api.registry.patch(
        node.api.resource('v1', 'pods'),
        namespace,
        name,
        'application/strategic-merge-patch+json',
        JSON.stringify({
          metadata: { labels: { 'test-pod': 'patched' } },
          spec: { terminationGracePeriodSeconds: 1, containers: [{ name, image: image2 }] },
        }),
      );
      await waitFor('watch: MODIFIED after the patch', () =>
        events.slice(seenBeforePatch).some((e) => e.type === 'MODIFIED') ? true : undefined,
      );
      const patched = await node.core.readNamespacedPod({ name, namespace });
      expect(patched.metadata?.labels).toMatchObject({ 'test-pod': 'patched', 'test-pod-static': 'true' });
      expect(patched.spec?.containers[0]?.image).toBe(image2);
      // The kubelet restarts the container with the new image; wait so Ready is True again.
      await node.waitPod(name, 'Ready with the new image', (pod) => {
        const ready = pod.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
        const status = pod.status?.containerStatuses?.[0];
        return ready && status?.state.running && status.restartCount > 0 ? pod : undefined;
      });

      // Replace the status with Ready and ContainersReady False, as the spec does (retry on conflict).
      const foreignCondition = 'example.com/conformance';
      const replaceWithReadyFalse = async (addForeignCondition: boolean): Promise<V1Pod> => {
        for (let attempt = 0; ; attempt++) {
          const current = await node.core.readNamespacedPodStatus({ name, namespace });
          let flipped = 0;
          for (const condition of current.status?.conditions ?? []) {
            if (
              (condition.type === 'Ready' || condition.type === 'ContainersReady') &&
              condition.status === 'True'
            ) {
              condition.status = 'False';
              flipped++;
            }
          }
          if (flipped !== 2) {
            // The kubelet has not reported both conditions True yet; read again.
            expect(attempt).toBeLessThan(200);
            await new Promise((resolve) => setTimeout(resolve, 150));
            continue;
          }
          // Beyond the spec: a condition no kubelet owns (an external controller's readiness-gate
          // kind), which upstream's status manager carries through its own writes.
          if (addForeignCondition)
            current.status?.conditions?.push({ type: foreignCondition, status: 'True' });
          const replaced = await node.core
            .replaceNamespacedPodStatus({ name, namespace, body: current })
            .catch((error: { code?: number }) => {
              if (error.code === 409) return undefined;
              throw error;
            });
          if (replaced) return replaced;
        }
      };
      // Beyond the spec: upstream's status manager puts its own status back at its next
      // reconcile (every 10 s), Ready and ContainersReady True again, the client's condition kept.
      const isTrue = (pod: V1Pod, type: string) =>
        pod.status?.conditions?.find((c) => c.type === type)?.status === 'True';
      // Waits for a watch event after the replace's own event showing the kubelet's status again.
      const putBack = async (replace: V1Pod) => {
        const version = replace.metadata?.resourceVersion;
        const at = await waitFor('watch: the replaced status', () => {
          const index = events.findIndex((e) => e.pod.metadata?.resourceVersion === version);
          return index >= 0 ? index : undefined;
        });
        await waitFor(
          'watch: the kubelet put Ready and ContainersReady True back',
          () =>
            events
              .slice(at + 1)
              .some(
                (e) =>
                  isTrue(e.pod, 'Ready') &&
                  isTrue(e.pod, 'ContainersReady') &&
                  isTrue(e.pod, foreignCondition),
              )
              ? true
              : undefined,
          180_000,
        );
      };
      const replaced = await replaceWithReadyFalse(true);
      const falseConditions = (replaced.status?.conditions ?? []).filter(
        (c) => (c.type === 'Ready' || c.type === 'ContainersReady') && c.status === 'False',
      );
      expect(falseConditions.map((c) => c.type).sort()).toEqual(['ContainersReady', 'Ready']);
      const seenAfterReplace = events.length;
      await putBack(replaced);
      // Once more with the foreign condition already there: nothing the kubelet generates differs
      // from what it wrote, so only the reconcile (not a resync) can put Ready back.
      await putBack(await replaceWithReadyFalse(false));

      // The kubelet keeps serving: the pod is listed by label and its container still runs.
      const listed = await node.core.listNamespacedPod({ namespace, labelSelector: selector });
      expect(listed.items.map((p) => p.metadata?.name)).toEqual([name]);
      expect(node.kubelet.getPods().some((p) => p.metadata.name === name)).toBe(true);

      await node.core.deleteCollectionNamespacedPod({
        namespace,
        labelSelector: selector,
        gracePeriodSeconds: 1,
      });
      await waitFor(
        'watch: DELETED',
        () => (events.some((e) => e.type === 'DELETED' && e.pod.metadata?.name === name) ? true : undefined),
        60_000,
      );
      // The kubelet wrote the pod's termination after the replacement and kept the foreign
      // condition in every write.
      const afterReplace = events.slice(seenAfterReplace).map((e) => e.pod);
      expect(afterReplace.some((p) => p.status?.containerStatuses?.[0]?.state?.terminated)).toBe(true);
      for (const pod of afterReplace)
        expect(pod.status?.conditions?.find((c) => c.type === foreignCondition)?.status).toBe('True');
      const gone = await node.core.readNamespacedPod({ name, namespace }).then(
        () => 200,
        (error: { code?: number }) => error.code,
      );
      expect(gone).toBe(404);
    } finally {
      watching.abort();
    }
  });
});

describe('v1.36 conformance: envFrom with various prefixes', { timeout: 180_000 }, () => {
  // Prefixes from the specs: none, a digit, special characters, upper case, symbols
  // (RelaxedEnvironmentVariableValidation: any printable ASCII but '=').
  const prefixes = [undefined, '1-', '$_-', 'ABC_', '#@!'];
  const expected = prefixes.flatMap((prefix) =>
    ['data-1=value-1', 'data-2=value-2', 'data-3=value-3'].map((line) => `${prefix ?? ''}${line}`),
  );

  async function runEnvPod(name: string, envFrom: NonNullable<V1Pod['spec']>['containers'][0]['envFrom']) {
    await node.core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name },
        spec: {
          nodeName: node.nodeName,
          restartPolicy: 'Never',
          // The spec runs `sh -c env`; the host's busybox 1.35 ash drops inherited variables whose
          // names are not shell identifiers (data-1, 1-data-1…) before `env` sees them, so `env`
          // runs directly and prints exactly what the kubelet gave the container.
          containers: [{ name: 'env-test', image: node.busybox, command: ['env'], envFrom }],
        },
      },
    });
    await node.waitPod(name, 'Succeeded', (pod) => (pod.status?.phase === 'Succeeded' ? pod : undefined));
    const log = await node.core.readNamespacedPodLog({ name, namespace, container: 'env-test' });
    return log.split('\n');
  }

  it('ConfigMap should be consumable as environment variable names with various prefixes', async () => {
    const configMap = 'configmap-test-prefixes';
    await node.core.createNamespacedConfigMap({
      namespace,
      body: {
        metadata: { name: configMap },
        data: { 'data-1': 'value-1', 'data-2': 'value-2', 'data-3': 'value-3' },
      },
    });
    const lines = await runEnvPod(
      'pod-configmap-prefixes',
      prefixes.map((prefix) => ({
        ...(prefix === undefined ? {} : { prefix }),
        configMapRef: { name: configMap },
      })),
    );
    expect(lines).toEqual(expect.arrayContaining(expected));
  });

  it('Secret should be consumable as environment variable names with various prefixes', async () => {
    const secret = 'secret-test-prefixes';
    const encode = (text: string) => Buffer.from(text).toString('base64');
    await node.core.createNamespacedSecret({
      namespace,
      body: {
        metadata: { name: secret },
        data: { 'data-1': encode('value-1\n'), 'data-2': encode('value-2\n'), 'data-3': encode('value-3\n') },
      },
    });
    const lines = await runEnvPod(
      'pod-secret-prefixes',
      prefixes.map((prefix) => ({
        ...(prefix === undefined ? {} : { prefix }),
        secretRef: { name: secret },
      })),
    );
    expect(lines).toEqual(expect.arrayContaining(expected));
  });
});

describe('v1.36 conformance: EndpointSlice should create Endpoints and EndpointSlices for Pods matching a Service', {
  timeout: 180_000,
}, () => {
  it("slices name our kubelet's pods by their IPs, with numeric and named target ports, and come back after deletion", async () => {
    const slices = node.api.startEndpointSliceController();
    const discovery = node.api.kubeConfig().makeApiClient(DiscoveryV1Api);
    try {
      const podWith = (name: string, labels: Record<string, string>) =>
        node.core.createNamespacedPod({
          namespace,
          body: {
            metadata: { name, labels },
            spec: {
              nodeName: node.nodeName,
              terminationGracePeriodSeconds: 1,
              containers: [
                {
                  name: 'container1',
                  image: node.busybox,
                  command: ['sh', '-c', sleepForever],
                  ports: [{ name: 'example-name', containerPort: 3000 }],
                },
              ],
            },
          },
        });
      await Promise.all([
        podWith('eps-pod1', { pod1: 'on', shared12: 'on' }),
        podWith('eps-pod2', { pod2: 'on', shared12: 'on' }),
      ]);
      await node.core.createNamespacedService({
        namespace,
        body: {
          metadata: { name: 'example-int-port' },
          spec: {
            selector: { pod1: 'on' },
            publishNotReadyAddresses: true,
            ports: [{ name: 'example', port: 80, targetPort: 3000, protocol: 'TCP' }],
          },
        },
      });
      await node.core.createNamespacedService({
        namespace,
        body: {
          metadata: { name: 'example-named-port' },
          spec: {
            selector: { shared12: 'on' },
            publishNotReadyAddresses: true,
            ports: [{ name: 'http', port: 80, targetPort: 'example-name', protocol: 'TCP' }],
          },
        },
      });
      const [ip1, ip2] = await Promise.all(
        ['eps-pod1', 'eps-pod2'].map((name) =>
          node.waitPod(name, 'a pod IP', (pod) => pod.status?.podIPs?.[0]?.ip),
        ),
      );

      /** upstream expectEndpointSlices: the Service's slices hold exactly these pods, on port 3000. */
      const expectSlices = (service: string, pods: Record<string, string | undefined>, portName: string) =>
        waitFor(`${service}: EndpointSlices for ${Object.keys(pods).join(',')}`, async () => {
          const list = await discovery.listNamespacedEndpointSlice({
            namespace,
            labelSelector: `kubernetes.io/service-name=${service}`,
          });
          const endpoints = list.items.flatMap((slice) =>
            slice.endpoints.map((e) => ({
              pod: e.targetRef?.name,
              kind: e.targetRef?.kind,
              addresses: e.addresses,
              nodeName: e.nodeName,
              ports: slice.ports?.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol })),
              managedBy: slice.metadata?.labels?.['endpointslice.kubernetes.io/managed-by'],
              addressType: slice.addressType,
            })),
          );
          const expected = Object.entries(pods).map(([pod, ip]) => ({
            pod,
            kind: 'Pod',
            addresses: [ip],
            nodeName: node.nodeName,
            ports: [{ name: portName, port: 3000, protocol: 'TCP' }],
            managedBy: 'endpointslice-controller.k8s.io',
            addressType: 'IPv4',
          }));
          const sorted = endpoints.sort((a, b) => String(a.pod).localeCompare(String(b.pod)));
          return JSON.stringify(sorted) === JSON.stringify(expected) ? list.items : undefined;
        });

      await expectSlices('example-int-port', { 'eps-pod1': ip1 }, 'example');
      const named = await expectSlices('example-named-port', { 'eps-pod1': ip1, 'eps-pod2': ip2 }, 'http');
      // Deleted slices are recreated by the controller (the spec's last step).
      for (const slice of named)
        await discovery.deleteNamespacedEndpointSlice({ name: slice.metadata?.name ?? '', namespace });
      const recreated = await expectSlices(
        'example-named-port',
        { 'eps-pod1': ip1, 'eps-pod2': ip2 },
        'http',
      );
      expect(recreated.map((s) => s.metadata?.uid)).not.toEqual(named.map((s) => s.metadata?.uid));
    } finally {
      slices.stop();
    }
  });
});
