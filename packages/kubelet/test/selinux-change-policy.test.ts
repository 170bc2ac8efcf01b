import { describe, expect, it } from 'vitest';
import { admitPod } from '../src/admission/admit-handler';
import { kubeletAdmitHandlers } from '../src/admission/kubelet-admit-handlers';
import type { Pod } from '../src/api/pod-types';
import { buildSandboxConfig } from '../src/cri/sandbox-config';
import { linuxContainerSecurityContext } from '../src/cri/security-context';
import { makePod } from './helpers/fixtures';

/**
 * spec.securityContext.seLinuxChangePolicy (v1.36): on a host without SELinux upstream runs the
 * pod as if the field were absent (fixture pod `selinux-change-policy`: Running and Ready). The
 * field only chooses how volumes get their label, which needs SELinux, so nothing here may change.
 */
describe('seLinuxChangePolicy on a host without SELinux', () => {
  const handlers = kubeletAdmitHandlers({
    maxPods: 110,
    allowedUnsafeSysctls: [],
    eviction: () => ({ admit: true }),
    runtimeFeatures: () => ({ userNamespaces: true, supplementalGroupsPolicy: true }),
    appArmorHostError: () => undefined,
    seLinuxEnabled: false,
  });
  const withPolicy = (policy: 'Recursive' | 'MountOption' | undefined): Pod =>
    makePod(policy ? { securityContext: { seLinuxChangePolicy: policy } } : {}, {
      name: 'selinux-change-policy',
    });
  const security = (pod: Pod) =>
    linuxContainerSecurityContext(pod, pod.spec.containers[0] ?? { name: 'x', image: 'x' }, {
      profileRoot: '/var/lib/kubelet/seccomp',
      seccompDefault: false,
      imageUser: { uid: 0 },
    });

  it('is admitted by the default handlers, with either value', () => {
    for (const policy of ['Recursive', 'MountOption'] as const)
      expect(admitPod(handlers, { pod: withPolicy(policy), otherPods: [] })).toEqual({ admit: true });
  });

  it('changes neither the sandbox nor the container security config sent to the runtime', () => {
    const dns = { clusterDNS: ['10.96.0.10'], clusterDomain: 'cluster.local', hostResolvConf: '' };
    for (const policy of ['Recursive', 'MountOption'] as const) {
      expect(buildSandboxConfig(withPolicy(policy), { ...dns, attempt: 0 })).toEqual(
        buildSandboxConfig(withPolicy(undefined), { ...dns, attempt: 0 }),
      );
      expect(security(withPolicy(policy))).toEqual(security(withPolicy(undefined)));
    }
  });
});
