import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { admitPod, type PodAdmitHandler } from '../src/admission/admit-handler';
import { podOSAdmitHandler, windowsOptionsAdmitHandler } from '../src/admission/pod-os-admit';
import {
  supplementalGroupsPolicyAdmitHandler,
  userNamespacesAdmitHandler,
} from '../src/admission/runtime-feature-admit';
import { seLinuxAdmitHandler } from '../src/admission/selinux-admit';
import type { Pod } from '../src/api/pod-types';
import { parseKubeletConfiguration } from '../src/config/kubelet-configuration';
import { runtimeClassHandlerLookup } from '../src/cri/runtime-class';
import { InvalidConfigError } from '../src/errors';
import { Kubelet } from '../src/kubelet';
import { type EngineHarness, startEngine, testPod } from './helpers/engine';

type Event = { uid: string; type: string; reason: string; message: string; fieldPath?: string };
let h: EngineHarness;
let events: Event[];
const logs = join(tmpdir(), `na-kubelet-admission-${process.pid}`);
beforeEach(async () => {
  events = [];
  h = await startEngine({
    config: parseKubeletConfiguration({
      maxPods: 2,
      podLogsDir: logs,
      allowedUnsafeSysctls: ['kernel.msg*', 'net.core.somaxconn'],
    }).config,
    node: {
      kernelRelease: '6.1.0',
    },
    api: {
      recordEvent: (pod, type, reason, message, fieldPath) =>
        events.push({ uid: pod.metadata.uid ?? '', type, reason, message, fieldPath }),
      runtimeHandler: runtimeClassHandlerLookup(async (name) =>
        name === 'runc' ? { handler: 'runc-handler' } : undefined,
      ),
    },
  });
});
afterEach(async () => {
  await h.close();
  await rm(logs, { recursive: true, force: true });
});

/** Adds the pod, lets the kubelet settle and returns its status. */
async function run(pod: Pod) {
  h.kubelet.addPod(pod);
  await h.kubelet.settle();
  return h.kubelet.getPodStatus(pod.metadata.uid!)!;
}

describe('admission', () => {
  it('rejects pods beyond maxPods with OutOfpods and never runs them', async () => {
    const pods = [testPod(), testPod(), testPod()];
    for (const pod of pods) h.kubelet.addPod(pod);
    await h.kubelet.settle();
    expect(pods.map((pod) => h.kubelet.getPodStatus(pod.metadata.uid!)?.phase)).toEqual([
      'Running',
      'Running',
      'Failed',
    ]);
    const rejected = h.kubelet.getPodStatus(pods[2]!.metadata.uid!)!;
    expect(rejected.reason).toBe('OutOfpods');
    expect(rejected.message).toBe(
      "Pod was rejected: Node didn't have enough resource: pods, requested: 1, used: 2, capacity: 2",
    );
    expect(events.filter((e) => e.type === 'Warning')).toEqual([
      {
        uid: pods[2]!.metadata.uid,
        type: 'Warning',
        reason: 'OutOfpods',
        message: "Node didn't have enough resource: pods, requested: 1, used: 2, capacity: 2",
      },
    ]);
    expect((await h.client.listPodSandbox({})).items).toHaveLength(2);
    // Once a pod is gone, a new one fits again.
    h.kubelet.removePod(pods[0]!);
    await h.kubelet.settle();
    const next = testPod();
    h.kubelet.addPod(next);
    await h.kubelet.settle();
    expect(h.kubelet.getPodStatus(next.metadata.uid!)?.phase).toBe('Running');
  });

  it('refuses a pod with a sysctl outside the safe set and allowedUnsafeSysctls: Failed, SysctlForbidden, nothing created', async () => {
    const status = await run(
      testPod({
        securityContext: {
          sysctls: [
            { name: 'net.ipv4.tcp_syncookies', value: '1' },
            { name: 'kernel.shmmax', value: '1000000' },
          ],
        },
      }),
    );
    expect(status).toMatchObject({
      phase: 'Failed',
      reason: 'SysctlForbidden',
      message: 'Pod was rejected: forbidden sysctl: "kernel.shmmax" not allowlisted',
    });
    expect(events.filter((e) => e.type === 'Warning').map((e) => [e.type, e.reason, e.message])).toEqual([
      ['Warning', 'SysctlForbidden', 'forbidden sysctl: "kernel.shmmax" not allowlisted'],
    ]);
    expect((await h.client.listPodSandbox({})).items).toHaveLength(0);
  });

  it('runs safe and allowlisted unsafe sysctls and hands them to the sandbox', async () => {
    const pod = testPod({
      securityContext: {
        sysctls: [
          { name: 'net.ipv4.tcp_syncookies', value: '0' },
          { name: 'kernel.msgmax', value: '65536' },
          { name: 'net/core/somaxconn', value: '1024' },
        ],
      },
    });
    expect((await run(pod)).phase).toBe('Running');
    expect((await h.client.listPodSandbox({})).items).toHaveLength(1);
    expect(h.kubelet.syncer.sandboxConfig(pod, 0).linux.sysctls).toMatchObject({
      'net.ipv4.tcp_syncookies': '0',
      'kernel.msgmax': '65536',
      'net.core.somaxconn': '1024',
    });
    expect(events.filter((e) => e.type === 'Warning')).toEqual([]);
  });

  it('refuses a net sysctl in a hostNetwork pod', async () => {
    const status = await run(
      testPod({
        hostNetwork: true,
        securityContext: { sysctls: [{ name: 'net.core.somaxconn', value: '1' }] },
      }),
    );
    expect(status.reason).toBe('SysctlForbidden');
    expect(status.message).toBe(
      'Pod was rejected: forbidden sysctl: "net.core.somaxconn" not allowed with host net enabled',
    );
  });

  it('refuses spec.os windows; runs Windows-only security options, as upstream ignores them on Linux', async () => {
    const windows = await run(testPod({ os: { name: 'windows' } }));
    expect(windows).toMatchObject({
      phase: 'Failed',
      reason: 'PodOSNotSupported',
      message: "Pod was rejected: Failed to admit pod as the OS field doesn't match node OS",
    });
    const gmsa = testPod();
    gmsa.spec.containers[0]!.securityContext = { windowsOptions: { runAsUserName: 'ContainerUser' } };
    expect((await run(gmsa)).phase).toBe('Running');
  });

  it('runs a pod with seLinuxOptions on a host without SELinux (the e2e framework sets them)', async () => {
    const pod = testPod({ securityContext: { seLinuxOptions: { level: 's0:c0,c1' } } });
    pod.spec.containers[0]!.securityContext = { seLinuxOptions: { type: 'spc_t' } };
    expect((await run(pod)).phase).toBe('Running');
    expect(events.filter((e) => e.uid === pod.metadata.uid && e.type === 'Warning')).toEqual([]);
  });

  it('fails the sandbox of hostUsers: false and keeps the pod waiting, as upstream', async () => {
    const pod = testPod({ hostUsers: false });
    const status = await run(pod);
    expect(status.phase).toBe('Pending');
    expect(status.reason).toBeUndefined();
    expect(events.filter((e) => e.uid === pod.metadata.uid)).toEqual([
      {
        uid: pod.metadata.uid,
        type: 'Warning',
        reason: 'FailedCreatePodSandBox',
        message:
          "Failed to create pod sandbox: can't set `spec.hostUsers: false`, runtime does not support user namespaces",
        fieldPath: undefined,
      },
    ]);
    expect((await h.client.listPodSandbox({})).items).toHaveLength(0);
    // hostUsers: true is the host's user namespace: nothing to refuse.
    expect((await run(testPod({ hostUsers: true }))).phase).toBe('Running');
  });

  it('refuses supplementalGroupsPolicy Strict when the runtime does not report the feature', async () => {
    const status = await run(testPod({ securityContext: { supplementalGroupsPolicy: 'Strict' } }));
    expect(status.reason).toBe('SupplementalGroupsPolicyNotSupported');
    expect(status.message).toBe(
      'Pod was rejected: SupplementalGroupsPolicy=Strict is not supported in this node',
    );
    expect((await run(testPod({ securityContext: { supplementalGroupsPolicy: 'Merge' } }))).phase).toBe(
      'Running',
    );
  });

  it('runs a pod with a RuntimeClass, its handler going to RunPodSandbox; an unknown one fails the sandbox', async () => {
    const pod = testPod({ runtimeClassName: 'runc' });
    expect((await run(pod)).phase).toBe('Running');
    const [sandbox] = (await h.client.listPodSandbox({})).items;
    expect(sandbox?.runtimeHandler).toBe('runc-handler');
    const unknown = testPod({ runtimeClassName: 'gvisor' });
    expect((await run(unknown)).phase).toBe('Pending');
    expect(events.find((e) => e.uid === unknown.metadata.uid)).toMatchObject({
      type: 'Warning',
      reason: 'FailedCreatePodSandBox',
      message: 'Failed to create pod sandbox: runtimeclasses.node.k8s.io "gvisor" not found',
    });
    expect((await h.client.listPodSandbox({})).items).toHaveLength(1);
  });

  it('admits privileged containers and host namespaces (upstream has no kubelet switch for them)', async () => {
    const pod = testPod({ hostPID: true, hostIPC: true, hostNetwork: true, shareProcessNamespace: true });
    pod.spec.containers[0]!.securityContext = { privileged: true };
    expect((await run(pod)).phase).toBe('Running');
  });

  it('does not start with an allowedUnsafeSysctls entry that is not namespaced', () => {
    expect(
      () =>
        new Kubelet({
          node: {
            name: 'n',
            rootDir: '/nonexistent',
            hostIPs: [],
            memoryCapacity: 1,
          },
          runtime: {} as never,
          config: parseKubeletConfiguration({ allowedUnsafeSysctls: ['vm.swappiness'] }).config,
        }),
    ).toThrow(InvalidConfigError);
  });
});

describe('admission with the default configuration', () => {
  it("refuses kernel.msgmax as the issue's upstream kubelet does", async () => {
    const engine = await startEngine({ node: { kernelRelease: '6.1.0' } });
    try {
      const pod = testPod({ securityContext: { sysctls: [{ name: 'kernel.msgmax', value: '65536' }] } });
      engine.kubelet.addPod(pod);
      await engine.kubelet.settle();
      expect(engine.kubelet.getPodStatus(pod.metadata.uid!)).toMatchObject({
        phase: 'Failed',
        reason: 'SysctlForbidden',
        message: 'Pod was rejected: forbidden sysctl: "kernel.msgmax" not allowlisted',
      });
      // The status the API server receives is the same.
      expect(engine.writer.last(pod.metadata.uid!)?.message).toBe(
        'Pod was rejected: forbidden sysctl: "kernel.msgmax" not allowlisted',
      );
      // As upstream's rejectPod leaves it: no container statuses (no waiting ContainerCreating
      // after the pod stopped), no kubelet conditions.
      const written = engine.writer.last(pod.metadata.uid!)!;
      expect(written.containerStatuses).toBeUndefined();
      expect(written.conditions).toBeUndefined();
      expect(written.qosClass).toBe('BestEffort');
      expect((await engine.client.listPodSandbox({})).items).toHaveLength(0);
    } finally {
      await engine.close();
    }
  });
});

describe('admission with strictAdmission (opt-in refusals beyond upstream)', () => {
  it('refuses SELinux labels without SELinux, Windows-only options and hostUsers: false', async () => {
    const engine = await startEngine({ node: { strictAdmission: true, seLinuxEnabled: false } });
    try {
      const admit = async (pod: Pod) => {
        engine.kubelet.addPod(pod);
        await engine.kubelet.settle();
        return engine.kubelet.getPodStatus(pod.metadata.uid!)!;
      };
      expect(
        await admit(testPod({ securityContext: { seLinuxOptions: { level: 's0:c0,c1' } } })),
      ).toMatchObject({
        phase: 'Failed',
        reason: 'SELinux',
        message:
          'Pod was rejected: Cannot enforce SELinux: SELinux is not enabled on the host (spec.securityContext.seLinuxOptions)',
      });
      const gmsa = testPod();
      gmsa.spec.containers[0]!.securityContext = { windowsOptions: { runAsUserName: 'ContainerUser' } };
      expect(await admit(gmsa)).toMatchObject({
        reason: 'PodOSNotSupported',
        message:
          'Pod was rejected: Failed to admit pod as spec.containers[0].securityContext.windowsOptions is Windows-only and the node OS is linux',
      });
      expect(await admit(testPod({ hostUsers: false }))).toMatchObject({
        phase: 'Failed',
        reason: 'FailedCreatePodSandBox',
        message:
          "Pod was rejected: can't set `spec.hostUsers: false`, runtime does not support user namespaces",
      });
      expect((await engine.client.listPodSandbox({})).items).toHaveLength(0);
    } finally {
      await engine.close();
    }
  });
});

describe('admit handlers', () => {
  const pod = (spec: Partial<Pod['spec']> = {}, labels?: Record<string, string>): Pod => ({
    metadata: { name: 'p', namespace: 'default', uid: 'u', labels },
    spec: { containers: [{ name: 'app' }], ...spec },
  });

  it('runs in order and answers with the first refusal', () => {
    const calls: string[] = [];
    const handler = (name: string, admit: boolean): PodAdmitHandler => ({
      admit: () => {
        calls.push(name);
        return admit ? { admit: true } : { admit: false, reason: name, message: `${name} said no` };
      },
    });
    expect(
      admitPod([handler('a', true), handler('b', false), handler('c', false)], { pod: pod(), otherPods: [] }),
    ).toEqual({ admit: false, reason: 'b', message: 'b said no' });
    expect(calls).toEqual(['a', 'b']);
  });

  it('checks the kubernetes.io/os label; the opt-in handler checks Windows options on every level', () => {
    expect(
      podOSAdmitHandler.admit({ pod: pod({}, { 'kubernetes.io/os': 'windows' }), otherPods: [] }),
    ).toEqual({
      admit: false,
      reason: 'PodOSSelectorNodeLabelDoesNotMatch',
      message: "Failed to admit pod as the `kubernetes.io/os` label doesn't match node label",
    });
    expect(
      podOSAdmitHandler.admit({
        pod: pod({ os: { name: 'linux' } }, { 'kubernetes.io/os': 'linux' }),
        otherPods: [],
      }),
    ).toEqual({
      admit: true,
    });
    const hostProcess = pod({ securityContext: { windowsOptions: { hostProcess: true } } });
    expect(podOSAdmitHandler.admit({ pod: hostProcess, otherPods: [] })).toEqual({ admit: true });
    expect(windowsOptionsAdmitHandler.admit({ pod: hostProcess, otherPods: [] })).toMatchObject({
      admit: false,
      message:
        'Failed to admit pod as spec.securityContext.windowsOptions is Windows-only and the node OS is linux',
    });
    const init = pod({
      initContainers: [{ name: 'i', securityContext: { windowsOptions: { gmsaCredentialSpecName: 'x' } } }],
    });
    expect(windowsOptionsAdmitHandler.admit({ pod: init, otherPods: [] })).toMatchObject({
      reason: 'PodOSNotSupported',
      message:
        'Failed to admit pod as spec.initContainers[0].securityContext.windowsOptions is Windows-only and the node OS is linux',
    });
    // Options that ask for nothing have nothing to ignore.
    const empty = pod({ securityContext: { windowsOptions: { hostProcess: false } } });
    expect(windowsOptionsAdmitHandler.admit({ pod: empty, otherPods: [] })).toEqual({ admit: true });
  });

  it('refuses SELinux labels on a host without SELinux and passes them where it runs', () => {
    const labelled = pod({
      containers: [{ name: 'a', securityContext: { seLinuxOptions: { level: 's0:c1,c2' } } }],
    });
    expect(seLinuxAdmitHandler(false).admit({ pod: labelled, otherPods: [] })).toEqual({
      admit: false,
      reason: 'SELinux',
      message:
        'Cannot enforce SELinux: SELinux is not enabled on the host (spec.containers[0].securityContext.seLinuxOptions)',
    });
    expect(seLinuxAdmitHandler(true).admit({ pod: labelled, otherPods: [] })).toEqual({ admit: true });
    const podLevel = pod({ securityContext: { seLinuxOptions: { type: 'spc_t' } } });
    expect(seLinuxAdmitHandler(false).admit({ pod: podLevel, otherPods: [] })).toMatchObject({
      message:
        'Cannot enforce SELinux: SELinux is not enabled on the host (spec.securityContext.seLinuxOptions)',
    });
    // Empty options ask for no label.
    const empty = pod({ securityContext: { seLinuxOptions: {} } });
    expect(seLinuxAdmitHandler(false).admit({ pod: empty, otherPods: [] })).toEqual({ admit: true });
  });

  it('follows the runtime features', () => {
    const strict = pod({ securityContext: { supplementalGroupsPolicy: 'Strict' } });
    const supported = { userNamespaces: true, supplementalGroupsPolicy: true };
    expect(
      supplementalGroupsPolicyAdmitHandler(() => supported).admit({ pod: strict, otherPods: [] }),
    ).toEqual({
      admit: true,
    });
    expect(
      supplementalGroupsPolicyAdmitHandler(() => undefined).admit({ pod: strict, otherPods: [] }),
    ).toMatchObject({
      admit: false,
    });
    const userns = pod({ hostUsers: false });
    expect(userNamespacesAdmitHandler(() => supported).admit({ pod: userns, otherPods: [] })).toEqual({
      admit: false,
      reason: 'FailedCreatePodSandBox',
      message: "can't set `spec.hostUsers: false`, this kubelet does not create user namespace ID mappings",
    });
    // With an allocator: admitted where the runtime has user namespaces, upstream's words where not.
    expect(userNamespacesAdmitHandler(() => supported, true).admit({ pod: userns, otherPods: [] })).toEqual({
      admit: true,
    });
    expect(userNamespacesAdmitHandler(() => undefined, true).admit({ pod: userns, otherPods: [] })).toEqual({
      admit: false,
      reason: 'FailedCreatePodSandBox',
      message: "can't set `spec.hostUsers: false`, runtime does not support user namespaces",
    });
    // A RuntimeClass's handler is only known at sandbox creation, which checks it: admitted here
    // even where the default handler has no user namespaces.
    const withClass = pod({ hostUsers: false, runtimeClassName: 'kata' });
    expect(
      userNamespacesAdmitHandler(() => undefined, true).admit({ pod: withClass, otherPods: [] }),
    ).toEqual({
      admit: true,
    });
  });
});
