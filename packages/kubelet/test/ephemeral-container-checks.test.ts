import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ephemeralContainerChecks } from '../src/admission/ephemeral-container-checks';
import type { EphemeralContainer, Pod } from '../src/api/pod-types';
import { busybox, type EngineHarness, startEngine, testPod } from './helpers/engine';
import { makePod } from './helpers/fixtures';

const noAppArmor = () => 'AppArmor is not enabled on the host';

describe('ephemeralContainerChecks (admission refusals for containers added after admission)', () => {
  const pod = (debug: EphemeralContainer) =>
    makePod({ containers: [{ name: 'app', image: 'busybox' }], ephemeralContainers: [debug] });

  it('with strictAdmission refuses SELinux labels on a host without SELinux; passes them by default', () => {
    const debug = { name: 'debug', image: 'busybox', securityContext: { seLinuxOptions: { type: 'spc_t' } } };
    expect(
      ephemeralContainerChecks({ seLinuxEnabled: false, appArmorHostError: noAppArmor })(pod(debug), debug),
    ).toBeUndefined();
    expect(
      ephemeralContainerChecks({
        seLinuxEnabled: false,
        appArmorHostError: noAppArmor,
        strictAdmission: true,
      })(pod(debug), debug),
    ).toBe(
      'Cannot enforce SELinux: SELinux is not enabled on the host (spec.ephemeralContainers[0].securityContext.seLinuxOptions)',
    );
    expect(
      ephemeralContainerChecks({
        seLinuxEnabled: true,
        appArmorHostError: noAppArmor,
        strictAdmission: true,
      })(pod(debug), debug),
    ).toBeUndefined();
  });

  it('refuses an AppArmor profile the host cannot enforce, Windows-only options with strictAdmission; passes a plain container', () => {
    const check = ephemeralContainerChecks({
      seLinuxEnabled: false,
      appArmorHostError: noAppArmor,
      strictAdmission: true,
    });
    const windows = {
      name: 'debug',
      image: 'busybox',
      securityContext: { windowsOptions: { hostProcess: true } },
    };
    expect(
      ephemeralContainerChecks({ seLinuxEnabled: false, appArmorHostError: noAppArmor })(
        pod(windows),
        windows,
      ),
    ).toBeUndefined();
    expect(check(pod(windows), windows)).toBe(
      'spec.ephemeralContainers[0].securityContext.windowsOptions is Windows-only and the node OS is linux',
    );
    const confined = {
      name: 'debug',
      image: 'busybox',
      securityContext: { appArmorProfile: { type: 'RuntimeDefault' as const } },
    };
    expect(check(pod(confined), confined)).toBe(
      'Cannot enforce AppArmor: AppArmor is not enabled on the host',
    );
    expect(
      ephemeralContainerChecks({ appArmorHostError: () => undefined })(pod(confined), confined),
    ).toBeUndefined();
    const plain = { name: 'debug', image: 'busybox', securityContext: { seLinuxOptions: {} } };
    expect(check(pod(plain), plain)).toBeUndefined();
  });
});

describe('through the kubelet with strictAdmission (fake CRI runtime)', () => {
  let h: EngineHarness;
  const events: string[] = [];
  beforeEach(async () => {
    events.length = 0;
    h = await startEngine({
      node: {
        seLinuxEnabled: false,
        strictAdmission: true,
      },
      api: {
        recordEvent: (_pod, type, reason, message) => events.push(`${type} ${reason}: ${message}`),
      },
    });
  });
  afterEach(async () => h.close());

  async function addDebugContainer(pod: Pod, debug: EphemeralContainer): Promise<void> {
    h.kubelet.addPod(pod);
    await h.kubelet.settle();
    expect(h.kubelet.getPodStatus(pod.metadata.uid!)?.phase).toBe('Running');
    h.kubelet.updatePod({ ...pod, spec: { ...pod.spec, ephemeralContainers: [debug] } });
    await h.kubelet.settle();
  }

  for (const [what, securityContext, message] of [
    [
      'an SELinux label on a host without SELinux',
      { seLinuxOptions: { level: 's0:c1,c2' } },
      'Cannot enforce SELinux: SELinux is not enabled on the host (spec.ephemeralContainers[0].securityContext.seLinuxOptions)',
    ],
    [
      'Windows-only options',
      { windowsOptions: { runAsUserName: 'ContainerUser' } },
      'spec.ephemeralContainers[0].securityContext.windowsOptions is Windows-only and the node OS is linux',
    ],
  ] as const) {
    it(`keeps an ephemeral container asking for ${what} waiting, with a Warning event`, async () => {
      const pod = testPod();
      await addDebugContainer(pod, {
        name: 'debug',
        image: busybox,
        command: ['sh', '-c', 'sleep 3600'],
        securityContext,
      });
      const names = (await h.client.listContainers({})).containers.map((c) => c.metadata?.name);
      expect(names).toEqual(['app']);
      const status = h.kubelet.getPodStatus(pod.metadata.uid!)!;
      expect(status.ephemeralContainerStatuses?.[0]?.state.waiting).toEqual({
        reason: 'CreateContainerConfigError',
        message,
      });
      expect(events).toContain(`Warning Failed: Error: ${message}`);
      // The pod itself keeps running.
      expect(status.phase).toBe('Running');
    });
  }

  it('starts an ephemeral container without such settings', async () => {
    const pod = testPod();
    await addDebugContainer(pod, { name: 'debug', image: busybox, command: ['sh', '-c', 'sleep 3600'] });
    const names = (await h.client.listContainers({})).containers.map((c) => c.metadata?.name).sort();
    expect(names).toEqual(['app', 'debug']);
    expect(events.filter((e) => e.startsWith('Warning'))).toEqual([]);
  });
});
