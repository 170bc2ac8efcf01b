import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NamespaceMode } from '@nodeagent/cri-client/types';
import { FakeClock } from '@nodeagent/primitives';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admitPod } from '../src/admission/admit-handler';
import { kubeletAdmitHandlers } from '../src/admission/kubelet-admit-handlers';
import type { Container, Pod } from '../src/api/pod-types';
import { appArmorAdmission, appArmorHostError, containerAppArmor } from '../src/cri/apparmor-profile';
import {
  buildContainerConfig,
  defaultMaskedPaths,
  defaultReadonlyPaths,
  defaultSeccompProfileRoot,
} from '../src/cri/container-config';
import type { PodRuntime } from '../src/cri/pod-runtime';
import { buildSandboxConfig } from '../src/cri/sandbox-config';
import { containerSeccompProfile } from '../src/cri/seccomp-profile';
import { effectiveSecurityContext, linuxContainerSecurityContext } from '../src/cri/security-context';
import { SecurityContextError } from '../src/cri/security-context-error';
import { type ImageUser, verifyRunAsNonRoot } from '../src/cri/verify-run-as-non-root';
import { imageUser } from '../src/sync/image-puller';
import { PodSyncer } from '../src/sync/pod-syncer';
import { SyncStepError } from '../src/sync/sync-errors';
import type { PodVolumeManager } from '../src/volumes/pod-volume-manager';
import { busybox, type EngineHarness, startEngine, testPod } from './helpers/engine';
import { makePod, runtimeStatus } from './helpers/fixtures';
import { noObjects, podSyncerHost } from './helpers/pod-syncer-host';

// CRI enum values, spelled out so the expectations read like the upstream request.
const POD = 0;
const CONTAINER = 1;
const NODE = 2;
const RuntimeDefault = 0;
const Unconfined = 1;
const Localhost = 2;
const Merge = 0;
const Strict = 1;

const seccomp = { profileRoot: '/var/lib/kubelet/seccomp', seccompDefault: false };

function containerSc(pod: Pod, options: { imageUser?: ImageUser; seccompDefault?: boolean } = {}) {
  return linuxContainerSecurityContext(pod, pod.spec.containers[0]!, {
    ...seccomp,
    seccompDefault: options.seccompDefault ?? false,
    imageUser: options.imageUser ?? { uid: 0 },
  });
}

function withContainer(container: Partial<Container>, spec: Partial<Pod['spec']> = {}, annotations = {}) {
  return makePod({ containers: [{ name: 'app', image: 'busybox', ...container }], ...spec }, { annotations });
}

describe('LinuxContainerSecurityContext (upstream determineEffectiveSecurityContext)', () => {
  it('builds the restricted-profile request field by field', () => {
    const pod = withContainer(
      {
        securityContext: {
          capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] },
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
        },
      },
      {
        securityContext: {
          runAsNonRoot: true,
          runAsUser: 1000,
          runAsGroup: 3000,
          fsGroup: 2000,
          supplementalGroups: [4000],
          supplementalGroupsPolicy: 'Strict',
          seccompProfile: { type: 'RuntimeDefault' },
          seLinuxOptions: { level: 's0:c1,c2' },
        },
      },
    );
    expect(containerSc(pod)).toEqual({
      capabilities: { addCapabilities: ['NET_BIND_SERVICE'], dropCapabilities: ['ALL'] },
      privileged: false,
      namespaceOptions: { network: POD, pid: CONTAINER, ipc: POD, usernsOptions: { mode: NODE } },
      selinuxOptions: { user: '', role: '', type: '', level: 's0:c1,c2' },
      runAsUser: { value: 1000 },
      runAsUsername: '',
      runAsGroup: { value: 3000 },
      readonlyRootfs: true,
      supplementalGroups: [2000, 4000],
      supplementalGroupsPolicy: Strict,
      noNewPrivs: true,
      maskedPaths: defaultMaskedPaths,
      readonlyPaths: defaultReadonlyPaths,
      seccomp: { profileType: RuntimeDefault, localhostRef: '' },
      apparmor: null,
      apparmorProfile: '',
    });
  });

  it('takes the container fields over the pod ones', () => {
    const pod = withContainer(
      {
        securityContext: {
          runAsUser: 2000,
          runAsGroup: 2001,
          seLinuxOptions: { type: 'container_t' },
          seccompProfile: { type: 'Localhost', localhostProfile: 'profiles/block-mkdir.json' },
        },
      },
      {
        securityContext: {
          runAsUser: 1000,
          runAsGroup: 1001,
          seLinuxOptions: { level: 's0' },
          seccompProfile: { type: 'RuntimeDefault' },
        },
      },
    );
    const sc = containerSc(pod);
    expect(sc.runAsUser).toEqual({ value: 2000 });
    expect(sc.runAsGroup).toEqual({ value: 2001 });
    expect(sc.selinuxOptions).toEqual({ user: '', role: '', type: 'container_t', level: '' });
    expect(sc.seccomp).toEqual({
      profileType: Localhost,
      localhostRef: '/var/lib/kubelet/seccomp/profiles/block-mkdir.json',
    });
    expect(sc.supplementalGroupsPolicy).toBe(Merge);
  });

  it('uses the image user when no runAsUser is set: a uid as runAsUser, a name as runAsUsername', () => {
    const pod = withContainer({});
    expect(containerSc(pod, { imageUser: { uid: 1000 } })).toMatchObject({
      runAsUser: { value: 1000 },
      runAsUsername: '',
    });
    expect(containerSc(pod, { imageUser: { username: 'nobody' } })).toMatchObject({
      runAsUser: null,
      runAsUsername: 'nobody',
    });
    expect(containerSc(pod, { imageUser: { uid: 0 } }).runAsUser).toEqual({ value: 0 });
    // An explicit runAsUser wins and no username is sent.
    const explicit = withContainer({ securityContext: { runAsUser: 7 } });
    expect(containerSc(explicit, { imageUser: { username: 'nobody' } })).toMatchObject({
      runAsUser: { value: 7 },
      runAsUsername: '',
    });
  });

  it('chooses seccomp: container, pod, then seccompDefault (RuntimeDefault) or Unconfined', () => {
    expect(containerSc(withContainer({})).seccomp).toEqual({ profileType: Unconfined, localhostRef: '' });
    expect(containerSc(withContainer({}), { seccompDefault: true }).seccomp).toEqual({
      profileType: RuntimeDefault,
      localhostRef: '',
    });
    const podUnconfined = withContainer({}, { securityContext: { seccompProfile: { type: 'Unconfined' } } });
    expect(containerSc(podUnconfined, { seccompDefault: true }).seccomp).toEqual({
      profileType: Unconfined,
      localhostRef: '',
    });
    const podLocal = withContainer(
      {},
      { securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: 'audit.json' } } },
    );
    expect(containerSeccompProfile(podLocal, podLocal.spec.containers[0]!, seccomp)).toEqual({
      profileType: Localhost,
      localhostRef: '/var/lib/kubelet/seccomp/audit.json',
    });
  });

  it('refuses Localhost seccomp without a profile name, with upstream message', () => {
    const pod = withContainer({ securityContext: { seccompProfile: { type: 'Localhost' } } });
    expect(() => containerSc(pod)).toThrow(
      expect.objectContaining({
        code: 'CREATE_CONTAINER_CONFIG',
        field: 'securityContext.seccompProfile.localhostProfile',
        message: 'localhostProfile must be set if seccompProfile type is Localhost.',
      }),
    );
  });

  it('privileged: privileged true, no no_new_privs by default, default masks still sent as upstream', () => {
    const sc = containerSc(withContainer({ securityContext: { privileged: true } }));
    expect(sc.privileged).toBe(true);
    expect(sc.noNewPrivs).toBe(false);
    expect(sc.maskedPaths).toEqual(defaultMaskedPaths);
    expect(sc.readonlyPaths).toEqual(defaultReadonlyPaths);
  });

  it('procMount Unmasked sends no masked or read-only paths', () => {
    const sc = containerSc(withContainer({ securityContext: { procMount: 'Unmasked' } }));
    expect(sc.maskedPaths).toEqual([]);
    expect(sc.readonlyPaths).toEqual([]);
  });

  it('noNewPrivs follows only an explicit allowPrivilegeEscalation (upstream AddNoNewPrivileges)', () => {
    expect(containerSc(withContainer({})).noNewPrivs).toBe(false);
    expect(
      containerSc(withContainer({ securityContext: { allowPrivilegeEscalation: true } })).noNewPrivs,
    ).toBe(false);
    expect(
      containerSc(withContainer({ securityContext: { allowPrivilegeEscalation: false } })).noNewPrivs,
    ).toBe(true);
  });

  it('namespaces: host namespaces NODE, shareProcessNamespace POD, hostUsers false needs mappings', () => {
    expect(
      containerSc(withContainer({}, { hostNetwork: true, hostPID: true, hostIPC: true })).namespaceOptions,
    ).toEqual({ network: NODE, pid: NODE, ipc: NODE, usernsOptions: { mode: NODE } });
    expect(containerSc(withContainer({}, { shareProcessNamespace: true })).namespaceOptions).toMatchObject({
      pid: POD,
    });
    const userns = withContainer({}, { hostUsers: false });
    expect(() => containerSc(userns)).toThrow(SecurityContextError);
    const mapping = {
      mode: NamespaceMode.POD,
      uids: [{ containerId: 0, hostId: 65536, length: 65536 }],
      gids: [{ containerId: 0, hostId: 65536, length: 65536 }],
    };
    const sc = linuxContainerSecurityContext(userns, userns.spec.containers[0]!, {
      ...seccomp,
      userNamespace: mapping,
    });
    expect(sc.namespaceOptions.usernsOptions).toEqual(mapping);
  });

  it("joins a target container's PID namespace (ephemeral containers), unless the pod shares one", () => {
    const target = { ...seccomp, pidTargetContainerId: 'abc123' };
    const own = withContainer({});
    expect(linuxContainerSecurityContext(own, own.spec.containers[0]!, target).namespaceOptions).toEqual({
      network: POD,
      pid: NamespaceMode.TARGET,
      ipc: POD,
      targetId: 'abc123',
      usernsOptions: { mode: NODE },
    });
    const shared = withContainer({}, { shareProcessNamespace: true });
    expect(
      linuxContainerSecurityContext(shared, shared.spec.containers[0]!, target).namespaceOptions,
    ).toEqual({
      network: POD,
      pid: POD,
      ipc: POD,
      usernsOptions: { mode: NODE },
    });
  });

  it('refuses an unknown supplementalGroupsPolicy with upstream message', () => {
    const pod = withContainer({}, { securityContext: { supplementalGroupsPolicy: 'Loose' as never } });
    expect(() => containerSc(pod)).toThrow('unsupported supplementalGroupsPolicy: Loose');
  });

  it('passes capabilities through as written (the runtime adds CAP_)', () => {
    const sc = containerSc(withContainer({ securityContext: { capabilities: { add: ['SYS_TIME'] } } }));
    expect(sc.capabilities).toEqual({ addCapabilities: ['SYS_TIME'], dropCapabilities: [] });
    expect(containerSc(withContainer({})).capabilities).toBeNull();
  });

  it('merges the pod security context into the effective one as upstream', () => {
    const pod = withContainer(
      { securityContext: { runAsNonRoot: false, windowsOptions: { runAsUserName: 'c' } } },
      {
        securityContext: {
          runAsNonRoot: true,
          runAsUser: 5,
          fsGroup: 9,
          windowsOptions: { gmsaCredentialSpecName: 'g', runAsUserName: 'p' },
        },
      },
    );
    expect(effectiveSecurityContext(pod, pod.spec.containers[0]!)).toEqual({
      runAsNonRoot: false,
      runAsUser: 5,
      windowsOptions: { gmsaCredentialSpecName: 'g', runAsUserName: 'c' },
    });
  });
});

describe('AppArmor (upstream getAppArmorProfile, appArmorAdmitHandler)', () => {
  it('sends the field and the deprecated string, container over annotation over pod', () => {
    const pod = withContainer(
      { securityContext: { appArmorProfile: { type: 'Localhost', localhostProfile: 'k8s-deny-write' } } },
      { securityContext: { appArmorProfile: { type: 'RuntimeDefault' } } },
      { 'container.apparmor.security.beta.kubernetes.io/app': 'unconfined' },
    );
    expect(containerAppArmor(pod, pod.spec.containers[0]!)).toEqual({
      apparmor: { profileType: Localhost, localhostRef: 'k8s-deny-write' },
      apparmorProfile: 'localhost/k8s-deny-write',
    });
    const byAnnotation = withContainer(
      {},
      { securityContext: { appArmorProfile: { type: 'Localhost', localhostProfile: 'x' } } },
      { 'container.apparmor.security.beta.kubernetes.io/app': 'runtime/default' },
    );
    expect(containerSc(byAnnotation)).toMatchObject({
      apparmor: { profileType: RuntimeDefault, localhostRef: '' },
      apparmorProfile: 'runtime/default',
    });
    const byPod = withContainer({}, { securityContext: { appArmorProfile: { type: 'Unconfined' } } });
    expect(containerSc(byPod)).toMatchObject({
      apparmor: { profileType: Unconfined, localhostRef: '' },
      apparmorProfile: 'unconfined',
    });
    const annotatedLocal = withContainer(
      {},
      {},
      { 'container.apparmor.security.beta.kubernetes.io/app': 'localhost/p1' },
    );
    expect(containerSc(annotatedLocal)).toMatchObject({
      apparmor: { profileType: Localhost, localhostRef: 'p1' },
      apparmorProfile: 'localhost/p1',
    });
  });

  it('rejects a pod needing AppArmor on a host without it, with reason AppArmor', () => {
    const hostError = 'AppArmor is not enabled on the host';
    const runtimeDefault = withContainer({
      securityContext: { appArmorProfile: { type: 'RuntimeDefault' } },
    });
    expect(appArmorAdmission(runtimeDefault, hostError)).toEqual({
      admit: false,
      reason: 'AppArmor',
      message: 'Cannot enforce AppArmor: AppArmor is not enabled on the host',
    });
    const annotated = withContainer(
      {},
      {},
      { 'container.apparmor.security.beta.kubernetes.io/app': 'localhost/x' },
    );
    expect(appArmorAdmission(annotated, hostError)).toMatchObject({ admit: false, reason: 'AppArmor' });
    const unconfined = withContainer({ securityContext: { appArmorProfile: { type: 'Unconfined' } } });
    expect(appArmorAdmission(unconfined, hostError)).toEqual({ admit: true });
    expect(appArmorAdmission(withContainer({}), hostError)).toEqual({ admit: true });
    expect(appArmorAdmission(runtimeDefault, undefined)).toEqual({ admit: true });
    const ephemeral = makePod({
      containers: [{ name: 'app', image: 'busybox' }],
      ephemeralContainers: [
        { name: 'debug', image: 'busybox', securityContext: { appArmorProfile: { type: 'RuntimeDefault' } } },
      ],
    });
    expect(appArmorAdmission(ephemeral, hostError)).toMatchObject({ admit: false, reason: 'AppArmor' });
    const empty = withContainer({
      securityContext: { appArmorProfile: { type: 'Localhost', localhostProfile: ' ' } },
    });
    expect(appArmorAdmission(empty, undefined)).toMatchObject({
      admit: false,
      message: expect.stringContaining('Cannot enforce AppArmor: invalid empty AppArmor profile name'),
    });
  });

  it('is one of the kubelet admit handlers, reading the host once', () => {
    let reads = 0;
    const handlers = kubeletAdmitHandlers({
      maxPods: 110,
      allowedUnsafeSysctls: [],
      eviction: () => ({ admit: true }),
      runtimeFeatures: () => ({ userNamespaces: true, supplementalGroupsPolicy: true }),
      appArmorHostError: () => {
        reads++;
        return 'AppArmor is not enabled on the host';
      },
    });
    const pod = withContainer({ securityContext: { appArmorProfile: { type: 'RuntimeDefault' } } });
    expect(admitPod(handlers, { pod, otherPods: [] })).toEqual({
      admit: false,
      reason: 'AppArmor',
      message: 'Cannot enforce AppArmor: AppArmor is not enabled on the host',
    });
    expect(admitPod(handlers, { pod: withContainer({}), otherPods: [] })).toEqual({ admit: true });
    expect(reads).toBe(1);
  });

  describe('host detection', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), `na-apparmor-${process.pid}-`));
    });
    afterAll(async () => rm(dir, { recursive: true, force: true }));

    it('reads the module parameter as runc does', async () => {
      await writeFile(join(dir, 'yes'), 'Y\n');
      await writeFile(join(dir, 'no'), 'N\n');
      const off = 'AppArmor is not enabled on the host';
      expect(appArmorHostError(join(dir, 'yes'), dir)).toBeUndefined();
      expect(appArmorHostError(join(dir, 'no'), dir)).toBe(off);
      expect(appArmorHostError(join(dir, 'missing'), dir)).toBe(off);
      // Enabled but no AppArmor securityfs: runc (so upstream) counts it as disabled.
      expect(appArmorHostError(join(dir, 'yes'), join(dir, 'no-securityfs'))).toBe(off);
    });
  });
});

describe('verifyRunAsNonRoot (upstream security_context_others.go)', () => {
  const pod = (container: Container['securityContext'], podSc: Pod['spec']['securityContext'] = {}) =>
    makePod(
      { containers: [{ name: 'app', image: 'busybox', securityContext: container }], securityContext: podSc },
      { name: 'web', namespace: 'shop', uid: 'u-1' },
    );
  const check = (p: Pod, user: ImageUser) => () => verifyRunAsNonRoot(p, p.spec.containers[0]!, user);

  it('passes when runAsNonRoot is unset or false, whatever the user', () => {
    expect(check(pod({}), { uid: 0 })).not.toThrow();
    expect(check(pod({ runAsNonRoot: false }), { uid: 0 })).not.toThrow();
  });

  it('refuses runAsUser 0 and accepts another explicit runAsUser before looking at the image', () => {
    expect(check(pod({ runAsNonRoot: true, runAsUser: 0 }), { uid: 1000 })).toThrow(
      `container's runAsUser breaks non-root policy (pod: "web_shop(u-1)", container: app)`,
    );
    expect(check(pod({}, { runAsNonRoot: true, runAsUser: 1000 }), { uid: 0 })).not.toThrow();
  });

  it('refuses an image running as root and a non-numeric image user', () => {
    expect(check(pod({}, { runAsNonRoot: true }), { uid: 0 })).toThrow(
      'container has runAsNonRoot and image will run as root (pod: "web_shop(u-1)", container: app)',
    );
    expect(check(pod({ runAsNonRoot: true }), { username: 'nobody' })).toThrow(
      'container has runAsNonRoot and image has non-numeric user (nobody), cannot verify user is non-root (pod: "web_shop(u-1)", container: app)',
    );
    expect(check(pod({ runAsNonRoot: true }), { uid: 1000 })).not.toThrow();
  });

  it('refuses through buildContainerConfig as CreateContainerConfigError; unknown image user counts as root', () => {
    const p = pod({ runAsNonRoot: true });
    const build = (user?: ImageUser) =>
      buildContainerConfig(p, p.spec.containers[0]!, {
        restartCount: 0,
        env: [],
        volumes: new Map(),
        memoryCapacity: 1024 ** 3,
        imageUser: user,
      });
    expect(() => build()).toThrow(expect.objectContaining({ code: 'CREATE_CONTAINER_CONFIG' }));
    expect(build({ uid: 1000 }).linux.securityContext.runAsUser).toEqual({ value: 1000 });
    expect(build({ uid: 1000 }).linux.securityContext.seccomp).toEqual({
      profileType: Unconfined,
      localhostRef: '',
    });
    expect(defaultSeccompProfileRoot).toBe('/var/lib/kubelet/seccomp');
  });
});

describe('imageUser (upstream getImageUser)', () => {
  const runtimeWith = (answer: () => Promise<{ uid?: number; username?: string } | undefined>) =>
    ({ imageUser: answer }) as unknown as PodRuntime;
  const container = { name: 'app', image: 'busybox' };

  it('returns the uid, else the name, else root', async () => {
    expect(
      await imageUser(
        runtimeWith(async () => ({ uid: 1000, username: '' })),
        container,
        'sha256:a',
      ),
    ).toEqual({
      uid: 1000,
    });
    expect(
      await imageUser(
        runtimeWith(async () => ({ username: 'nobody' })),
        container,
        'sha256:a',
      ),
    ).toEqual({
      username: 'nobody',
    });
    expect(
      await imageUser(
        runtimeWith(async () => ({ username: '' })),
        container,
        'sha256:a',
      ),
    ).toEqual({ uid: 0 });
    expect(await imageUser({} as PodRuntime, container, 'sha256:a')).toEqual({ uid: 0 });
  });

  it('turns a failing ImageStatus into CreateContainerConfigError', async () => {
    const failing = runtimeWith(async () => {
      throw new Error('rpc error: image status failed');
    });
    await expect(imageUser(failing, container, 'sha256:a')).rejects.toThrow(SyncStepError);
    await expect(imageUser(failing, container, 'sha256:a')).rejects.toMatchObject({
      code: 'CreateContainerConfigError',
    });
  });
});

describe('LinuxSandboxSecurityContext (upstream generatePodSandboxLinuxConfig)', () => {
  const dns = { clusterDNS: [], clusterDomain: 'cluster.local' };

  it('carries pod-level user, groups, SELinux, namespaces, RuntimeDefault seccomp and privileged', () => {
    const pod = makePod({
      initContainers: [{ name: 'init', image: 'busybox', securityContext: { privileged: true } }],
      containers: [{ name: 'app', image: 'busybox' }],
      shareProcessNamespace: true,
      securityContext: {
        runAsUser: 1000,
        runAsGroup: 3000,
        fsGroup: 2000,
        supplementalGroups: [4000, 5000],
        supplementalGroupsPolicy: 'Strict',
        seLinuxOptions: { user: 'system_u', role: 'system_r', type: 'spc_t', level: 's0' },
        seccompProfile: { type: 'Unconfined' },
        sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }],
      },
    });
    const config = buildSandboxConfig(pod, { ...dns, attempt: 0 });
    expect(config.linux.securityContext).toEqual({
      privileged: true,
      seccomp: { profileType: RuntimeDefault, localhostRef: '' },
      runAsUser: { value: 1000 },
      runAsGroup: { value: 3000 },
      namespaceOptions: { network: POD, pid: POD, ipc: POD, usernsOptions: { mode: NODE } },
      supplementalGroups: [2000, 4000, 5000],
      supplementalGroupsPolicy: Strict,
      selinuxOptions: { user: 'system_u', role: 'system_r', type: 'spc_t', level: 's0' },
      readonlyRootfs: false,
    });
    expect(config.linux.sysctls).toEqual({ 'net.ipv4.ip_unprivileged_port_start': '0' });
  });

  it('is privileged when only an ephemeral container is (upstream HasPrivilegedContainer)', () => {
    const pod = makePod({
      containers: [{ name: 'app', image: 'busybox' }],
      ephemeralContainers: [{ name: 'debug', image: 'busybox', securityContext: { privileged: true } }],
    });
    expect(buildSandboxConfig(pod, { ...dns, attempt: 0 }).linux.securityContext.privileged).toBe(true);
  });

  it('leaves the optional parts empty for a pod without a security context', () => {
    const config = buildSandboxConfig(makePod(), { ...dns, attempt: 0 });
    expect(config.linux.securityContext).toEqual({
      privileged: false,
      seccomp: { profileType: RuntimeDefault, localhostRef: '' },
      runAsUser: null,
      runAsGroup: null,
      namespaceOptions: { network: POD, pid: CONTAINER, ipc: POD, usernsOptions: { mode: NODE } },
      supplementalGroups: [],
      supplementalGroupsPolicy: Merge,
      selinuxOptions: null,
      readonlyRootfs: false,
    });
  });
});

describe('through the kubelet (fake CRI runtime, whose images report no user)', () => {
  let h: EngineHarness;
  beforeAll(async () => {
    h = await startEngine();
  });
  afterAll(async () => h.close());

  it('keeps a runAsNonRoot container waiting with CreateContainerConfigError and upstream message', async () => {
    const pod = testPod({
      securityContext: { runAsNonRoot: true },
      containers: [{ name: 'app', image: busybox, command: ['sh', '-c', 'sleep 3600'] }],
    });
    h.kubelet.addPod(pod);
    await h.kubelet.settle();
    const status = h.kubelet.getPodStatus(pod.metadata.uid!)!;
    expect(status.phase).toBe('Pending');
    expect(status.containerStatuses![0]!.state.waiting).toEqual({
      reason: 'CreateContainerConfigError',
      message: `container has runAsNonRoot and image will run as root (pod: "${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})", container: app)`,
    });
    expect((await h.client.listContainers({})).containers).toHaveLength(0);
    // Gone, so its retries do not add calls to the next test's count.
    h.kubelet.removePod(pod);
    await h.kubelet.settle();
  });

  it('learns the image user from the presence check: one ImageStatus per container start', async () => {
    const before = h.fake.calls.length;
    const pod = testPod({
      containers: [{ name: 'app', image: busybox, command: ['sh', '-c', 'sleep 3600'] }],
    });
    h.kubelet.addPod(pod);
    await h.kubelet.settle();
    expect(h.kubelet.getPodStatus(pod.metadata.uid!)!.phase).toBe('Running');
    expect(h.fake.calls.slice(before).filter((rpc) => rpc === 'ImageStatus')).toHaveLength(1);
    const created = (await h.client.listContainers({})).containers.find(
      (c) => c.labels['io.kubernetes.pod.uid'] === pod.metadata.uid,
    );
    expect(created).toBeDefined();
  });
});

describe('PodSyncer with a sandbox that cannot be built', () => {
  let rootDir: string;
  beforeAll(async () => {
    rootDir = await mkdtemp(join(tmpdir(), `na-sandbox-unbuilt-${process.pid}-`));
  });
  afterAll(async () => rm(rootDir, { recursive: true, force: true }));

  it('reports FailedCreatePodSandBox and asks the runtime for nothing', async () => {
    const called: string[] = [];
    const runtime = new Proxy({} as PodRuntime, {
      get: (_target, name) => async () => {
        called.push(String(name));
      },
    });
    const warnings: string[] = [];
    const syncer = new PodSyncer({
      runtime,
      volumes: { setUp: async () => new Map() } as unknown as PodVolumeManager,
      cluster: { objects: noObjects },
      clock: new FakeClock(),
      host: podSyncerHost(rootDir),
      listeners: {
        onWarning: (_pod, reason, message) => warnings.push(`${reason}: ${message}`),
      },
    });
    const pod = makePod({ hostUsers: false });
    const outcome = await syncer.applyPodActions(pod, runtimeStatus(pod, []));
    // Upstream's words where the runtime has no user namespaces (features unknown count as none).
    expect(outcome.error?.message).toBe(
      "can't set `spec.hostUsers: false`, runtime does not support user namespaces",
    );
    expect(warnings).toEqual([
      `FailedCreatePodSandBox: Failed to create pod sandbox: ${outcome.error!.message}`,
    ]);
    expect(called).toEqual([]);
  });
});
