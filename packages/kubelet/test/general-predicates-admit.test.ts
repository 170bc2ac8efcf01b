import { afterEach, describe, expect, it } from 'vitest';
import { type AdmissionNode, generalPredicatesAdmitHandler } from '../src/admission/general-predicates-admit';
import { configSourceAnnotation } from '../src/api/config-source';
import type { Pod } from '../src/api/pod-types';
import { type EngineHarness, startEngine, testPod } from './helpers/engine';

const node: AdmissionNode = {
  name: 'node-a',
  labels: { 'kubernetes.io/os': 'linux', zone: 'a' },
  taints: [
    { key: 'dedicated', value: 'db', effect: 'NoExecute' },
    { key: 'spot', effect: 'NoSchedule' },
  ],
};
const tolerateDb = [{ key: 'dedicated', operator: 'Exists', effect: 'NoExecute' }];

function admit(
  spec: Partial<Pod['spec']>,
  others: Partial<Pod['spec']>[] = [],
  annotations?: Record<string, string>,
) {
  const pod = testPod({ tolerations: tolerateDb, ...spec });
  if (annotations) pod.metadata.annotations = annotations;
  return generalPredicatesAdmitHandler(() => node).admit({
    pod,
    otherPods: others.map((o) => testPod(o)),
  });
}

function withPorts(
  ...ports: { hostPort: number; hostIP?: string; protocol?: 'TCP' | 'UDP' }[]
): Partial<Pod['spec']> {
  return {
    tolerations: tolerateDb,
    containers: [{ name: 'app', image: 'i', ports: ports.map((p) => ({ containerPort: 80, ...p })) }],
  };
}

describe("the kubelet's general predicates (upstream's generalFilter after the resource fit)", () => {
  it('admits a pod whose selector matches, with the NoExecute taint tolerated and free host ports', () => {
    expect(
      admit({ nodeSelector: { zone: 'a' }, nodeName: 'node-a', ...withPorts({ hostPort: 8080 }) }),
    ).toEqual({
      admit: true,
    });
  });

  it.each([
    [
      'a nodeSelector the node does not match',
      { nodeSelector: { zone: 'b' } },
      'NodeAffinity',
      "Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector",
    ],
    [
      'required node affinity the node does not match',
      {
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{ matchExpressions: [{ key: 'gpu', operator: 'Exists' }] }],
            },
          },
        },
      },
      'NodeAffinity',
      "Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector",
    ],
    [
      'another node name',
      { nodeName: 'node-b' },
      'NodeName',
      "Predicate NodeName failed: node(s) didn't match the requested node name",
    ],
    [
      'an untolerated NoExecute taint',
      { tolerations: [] },
      'TaintToleration',
      "Predicate TaintToleration failed: node(s) had taints that the pod didn't tolerate",
    ],
  ])('refuses %s', (_name, spec, reason, message) => {
    expect(admit(spec as Partial<Pod['spec']>)).toEqual({ admit: false, reason, message });
  });

  it('checks the affinity before the node name, as AdmissionCheck orders them', () => {
    expect(admit({ nodeSelector: { zone: 'b' }, nodeName: 'node-b' })).toMatchObject({
      reason: 'NodeAffinity',
    });
  });

  it("ignores NoSchedule taints (the scheduler's), and NoExecute ones for static pods", () => {
    expect(admit({ tolerations: tolerateDb })).toEqual({ admit: true });
    expect(admit({ tolerations: [] }, [], { [configSourceAnnotation]: 'file' })).toEqual({ admit: true });
  });

  it.each([
    ['the same port and protocol on every IP', [{ hostPort: 80 }], [{ hostPort: 80 }], false],
    [
      'the same port on one IP beside every IP',
      [{ hostPort: 80, hostIP: '10.0.0.1' }],
      [{ hostPort: 80 }],
      false,
    ],
    ['every IP beside one IP', [{ hostPort: 80 }], [{ hostPort: 80, hostIP: '10.0.0.1' }], false],
    [
      'two different IPs',
      [{ hostPort: 80, hostIP: '10.0.0.2' }],
      [{ hostPort: 80, hostIP: '10.0.0.1' }],
      true,
    ],
    ['another protocol', [{ hostPort: 80, protocol: 'UDP' }], [{ hostPort: 80 }], true],
    ['another port', [{ hostPort: 81 }], [{ hostPort: 80 }], true],
  ] as const)('host ports: %s', (_name, wanted, held, admits) => {
    const result = admit(withPorts(...wanted), [withPorts(...held)]);
    expect(result.admit).toBe(admits);
    if (!admits)
      expect(result).toEqual({
        admit: false,
        reason: 'NodePorts',
        message: "Predicate NodePorts failed: node(s) didn't have free ports for the requested pod ports",
      });
  });

  it('counts no port without a hostPort (containerPort alone holds nothing on the node)', () => {
    const noHostPort = {
      tolerations: tolerateDb,
      containers: [{ name: 'a', image: 'i', ports: [{ containerPort: 80 }] }],
    };
    expect(admit(noHostPort, [noHostPort])).toEqual({ admit: true });
  });
});

describe('a kubelet admitting pods bound to it by hand', () => {
  let h: EngineHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it("refuses a pod whose nodeSelector the node's labels do not match, from the registering labels and then the API's Node", async () => {
    let apiNode: AdmissionNode | undefined;
    h = await startEngine({
      node: { labels: { 'kubernetes.io/os': 'linux', zone: 'a' } },
      api: { node: () => apiNode },
    });
    const inZoneA = testPod({ nodeSelector: { zone: 'a' } });
    const inZoneB = testPod({ nodeSelector: { zone: 'b' } });
    h.kubelet.addPod(inZoneA);
    h.kubelet.addPod(inZoneB);
    await h.kubelet.settle();
    expect(h.kubelet.getPodStatus(inZoneA.metadata.uid!)?.phase).toBe('Running');
    expect(h.kubelet.getPodStatus(inZoneB.metadata.uid!)).toMatchObject({
      phase: 'Failed',
      reason: 'NodeAffinity',
      message:
        "Pod was rejected: Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector",
    });
    // Not among upstream's counted reasons: kubelet_admission_rejections_total files it under Other.
    expect(
      await h.kubelet.metrics.registry.getSingleMetricAsString('kubelet_admission_rejections_total'),
    ).toContain('kubelet_admission_rejections_total{reason="Other"} 1');
    // Once the API's Node is known, its labels decide (an operator labelled the node zone=b).
    apiNode = { name: 'node-a', labels: { zone: 'b' } };
    const later = testPod({ nodeSelector: { zone: 'b' } });
    h.kubelet.addPod(later);
    await h.kubelet.settle();
    expect(h.kubelet.getPodStatus(later.metadata.uid!)?.phase).toBe('Running');
  });
});
