import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CriClient, createCriClient } from '@nodeagent/cri-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Container, Pod, PodStatus } from '../../src/api/pod-types';
import { parseKubeletConfiguration } from '../../src/config/kubelet-configuration';
import { buildContainerConfig } from '../../src/cri/container-config';
import { criPodRuntime } from '../../src/cri/cri-pod-runtime';
import { buildSandboxConfig } from '../../src/cri/sandbox-config';
import { Kubelet } from '../../src/kubelet';
import { waitFor } from './node-harness';
import { type PrivateContainerd, startPrivateContainerd, tearDownKubeletNode } from './private-containerd';

// What the kernel enforces, read from inside containers the kubelet starts on a real containerd.

interface LocalImage {
  name: string;
  archive: string;
}
// Loaded by path so this package's typecheck does not pull in the tools project.
const toolsImages = fileURLToPath(new URL('../../../../tools/images/', import.meta.url));

let containerd: PrivateContainerd;
let client: CriClient;
let dir: string;
let kubelet: Kubelet;
let busybox: string;
let userImages: Record<'uid1000' | 'uid0' | 'named', LocalImage>;
let podCount = 0;

function pod(spec: Partial<Pod['spec']>, container: Partial<Container> = {}): Pod {
  podCount++;
  return {
    metadata: { name: `sc-${podCount}`, namespace: 'default', uid: `sc-${process.pid}-${podCount}` },
    spec: {
      containers: [{ name: 'app', image: busybox, command: ['sh', '-c', 'sleep 3600'], ...container }],
      terminationGracePeriodSeconds: 1,
      ...spec,
    },
  };
}

async function running(p: Pod): Promise<string> {
  kubelet.addPod(p);
  const status = await waitFor(
    `${p.metadata.name} Running`,
    () => {
      const s = kubelet.getPodStatus(p.metadata.uid!);
      return s?.phase === 'Running' ? s : undefined;
    },
    60_000,
  );
  return status.containerStatuses![0]!.containerID!.replace('containerd://', '');
}

async function waiting(p: Pod, reason: string): Promise<{ reason?: string; message?: string }> {
  kubelet.addPod(p);
  return waitFor(
    `${p.metadata.name} waiting with ${reason}`,
    () => {
      const w = kubelet.getPodStatus(p.metadata.uid!)?.containerStatuses?.[0]?.state.waiting;
      return w?.reason === reason ? w : undefined;
    },
    60_000,
  );
}

async function exec(containerId: string, script: string): Promise<{ code: number; out: string }> {
  const result = await criPodRuntime(client).execSync(containerId, ['sh', '-c', script], 20);
  return { code: result.exitCode, out: `${result.stdout.toString()}${result.stderr.toString()}`.trim() };
}

function statusField(status: string, field: string): string {
  return new RegExp(`^${field}:\\s*(\\S+)`, 'm').exec(status)?.[1] ?? '';
}

async function remove(...pods: Pod[]): Promise<void> {
  for (const p of pods) kubelet.removePod(p);
  await kubelet.settle();
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), `na-security-context-${process.pid}-`));
  containerd = await startPrivateContainerd();
  busybox = containerd.images!.busybox.name;
  const built = (await import(join(toolsImages, 'user-images.ts'))) as {
    buildUserImages: (busybox: LocalImage) => Promise<typeof userImages>;
  };
  const importer = (await import(join(toolsImages, 'build-images.ts'))) as {
    importImages: (address: string, images: LocalImage[]) => Promise<void>;
  };
  userImages = await built.buildUserImages(containerd.images!.busybox as LocalImage);
  await importer.importImages(containerd.endpoint.replace(/^unix:\/\//, ''), Object.values(userImages));
  client = await createCriClient({ endpoint: containerd.endpoint });
  // A profile that refuses mkdir with EPERM and allows everything else.
  await mkdir(join(dir, 'root', 'seccomp', 'profiles'), { recursive: true });
  await writeFile(
    join(dir, 'root', 'seccomp', 'profiles', 'no-mkdir.json'),
    JSON.stringify({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
    }),
  );
  kubelet = new Kubelet({
    node: {
      name: 'node-security',
      rootDir: join(dir, 'root'),
      hostIPs: ['192.168.71.2'],
      memoryCapacity: 2 * 1024 ** 3,
    },
    runtime: criPodRuntime(client),
    config: parseKubeletConfiguration({
      podLogsDir: join(dir, 'logs'),
      volumePluginDir: join(dir, 'volume-plugins'),
      seccompDefault: true,
    }).config,
    pacing: {
      relistPeriodMs: 200,
      retryMs: 500,
    },
  });
  await kubelet.start();
}, 180_000);

afterAll(async () => {
  await tearDownKubeletNode({ kubelets: [kubelet], client, containerd, dir });
}, 120_000);

describe('security context on a real containerd', () => {
  it('enforces the restricted profile: seccomp, no_new_privs, capabilities, user and groups, read-only root', async () => {
    const p = pod(
      {
        securityContext: {
          runAsNonRoot: true,
          runAsUser: 1000,
          runAsGroup: 3000,
          fsGroup: 2000,
          supplementalGroups: [4000],
          seccompProfile: { type: 'RuntimeDefault' },
        },
      },
      {
        securityContext: {
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] },
        },
      },
    );
    const id = await running(p);
    const status = (await exec(id, 'cat /proc/self/status')).out;
    expect(statusField(status, 'Seccomp')).toBe('2');
    expect(statusField(status, 'NoNewPrivs')).toBe('1');
    // Only NET_BIND_SERVICE (bit 10) stays in the bounding set; a non-root process keeps none effective.
    expect(statusField(status, 'CapBnd')).toBe('0000000000000400');
    expect(statusField(status, 'CapEff')).toBe('0000000000000000');
    const id_ = await exec(id, 'id -u; id -g; id -G');
    const [uid, gid, groups] = id_.out.split('\n');
    expect(uid).toBe('1000');
    expect(gid).toBe('3000');
    expect(groups!.split(' ')).toEqual(expect.arrayContaining(['2000', '4000']));
    const write = await exec(id, 'touch /should-fail');
    expect(write.code).not.toBe(0);
    expect(write.out).toContain('Read-only file system');
    expect((await exec(id, 'touch /tmp/x 2>&1 || echo tmp-is-rootfs')).out).toContain('tmp-is-rootfs');
    await remove(p);
  }, 120_000);

  it('root with drop ALL + add NET_BIND_SERVICE has exactly that capability effective', async () => {
    const p = pod({}, { securityContext: { capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } } });
    const id = await running(p);
    const status = (await exec(id, 'cat /proc/self/status')).out;
    expect(statusField(status, 'CapEff')).toBe('0000000000000400');
    expect(statusField(status, 'NoNewPrivs')).toBe('0');
    await remove(p);
  }, 120_000);

  it('seccompDefault gives RuntimeDefault to containers that set none; Unconfined stays unconfined', async () => {
    const byDefault = pod({});
    const unconfined = pod({}, { securityContext: { seccompProfile: { type: 'Unconfined' } } });
    const [a, b] = await Promise.all([running(byDefault), running(unconfined)]);
    expect(statusField((await exec(a, 'cat /proc/self/status')).out, 'Seccomp')).toBe('2');
    expect(statusField((await exec(b, 'cat /proc/self/status')).out, 'Seccomp')).toBe('0');
    await remove(byDefault, unconfined);
  }, 120_000);

  it('masks /proc paths for an ordinary container and none for a privileged one, which gets every capability', async () => {
    const plain = pod({});
    const privileged = pod({}, { securityContext: { privileged: true } });
    const [a, b] = await Promise.all([running(plain), running(privileged)]);
    const plainMounts = (await exec(a, 'cat /proc/mounts')).out;
    // Masked files are /dev/null binds, masked directories empty read-only tmpfs (paths this kernel has).
    expect(plainMounts).toMatch(/ \/proc\/timer_list /);
    expect(plainMounts).toMatch(/^tmpfs \/proc\/acpi tmpfs ro[, ]/m);
    expect(plainMounts).toMatch(/ \/proc\/sys \S+ ro[, ]/);
    expect((await exec(a, 'wc -c < /proc/timer_list')).out).toBe('0');
    const privilegedMounts = (await exec(b, 'cat /proc/mounts')).out;
    expect(privilegedMounts).not.toMatch(/ \/proc\/timer_list /);
    expect(privilegedMounts).not.toMatch(/ \/proc\/acpi /);
    expect(privilegedMounts).not.toMatch(/ \/proc\/sys \S+ ro[, ]/);
    const hostBounding = statusField(await readFile('/proc/self/status', 'utf8'), 'CapBnd');
    expect(statusField((await exec(b, 'cat /proc/self/status')).out, 'CapEff')).toBe(hostBounding);
    await remove(plain, privileged);
  }, 120_000);

  it('applies a Localhost profile from <root-dir>/seccomp and refuses to start without the file', async () => {
    const p = pod(
      {
        securityContext: {
          seccompProfile: { type: 'Localhost', localhostProfile: 'profiles/no-mkdir.json' },
        },
      },
      {},
    );
    const id = await running(p);
    expect(statusField((await exec(id, 'cat /proc/self/status')).out, 'Seccomp')).toBe('2');
    const made = await exec(id, 'mkdir /tmp/blocked');
    expect(made.code).not.toBe(0);
    expect(made.out).toContain('Operation not permitted');
    expect((await exec(id, 'touch /tmp/allowed && echo ok')).out).toBe('ok');

    const missing = pod(
      {},
      { securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: 'nope.json' } } },
    );
    const w = await waiting(missing, 'CreateContainerError');
    expect(w.message).toContain(join(dir, 'root', 'seccomp', 'nope.json'));
    expect(kubelet.getPodStatus(missing.metadata.uid!)?.phase).toBe('Pending');
    await remove(p, missing);
  }, 120_000);

  it('runAsNonRoot: refuses root and named-user images with upstream messages, runs the uid-1000 image', async () => {
    const nonRoot = { securityContext: { runAsNonRoot: true } };
    const unsetUser = pod(nonRoot);
    const rootUser = pod(nonRoot, { image: userImages.uid0.name });
    const named = pod(nonRoot, { image: userImages.named.name });
    const uid1000 = pod(nonRoot, { image: userImages.uid1000.name });
    const where = (p: Pod) => `(pod: "${p.metadata.name}_default(${p.metadata.uid})", container: app)`;
    for (const p of [unsetUser, rootUser]) {
      expect(await waiting(p, 'CreateContainerConfigError')).toEqual({
        reason: 'CreateContainerConfigError',
        message: `container has runAsNonRoot and image will run as root ${where(p)}`,
      });
    }
    expect(await waiting(named, 'CreateContainerConfigError')).toEqual({
      reason: 'CreateContainerConfigError',
      message: `container has runAsNonRoot and image has non-numeric user (nobody), cannot verify user is non-root ${where(named)}`,
    });
    const id = await running(uid1000);
    expect((await exec(id, 'id -u')).out).toBe('1000');
    // The refused pods created no container at all.
    const containers = (await client.listContainers({})).containers;
    for (const p of [unsetUser, rootUser, named]) {
      expect(containers.filter((c) => c.labels['io.kubernetes.pod.uid'] === p.metadata.uid)).toEqual([]);
    }
    await remove(unsetUser, rootUser, named, uid1000);
  }, 120_000);

  it('runs the named-user image as that user when runAsNonRoot is not asked', async () => {
    const p = pod({}, { image: userImages.named.name });
    const id = await running(p);
    expect((await exec(id, 'id -u')).out).toBe('65534');
    await remove(p);
  }, 120_000);

  it('AppArmor: a pod needing a profile is rejected on this host without AppArmor, and the runtime would not run it either', async () => {
    let apparmorEnabled = false;
    try {
      apparmorEnabled = (await readFile('/sys/module/apparmor/parameters/enabled', 'utf8')).startsWith('Y');
    } catch {}
    expect(apparmorEnabled).toBe(false); // this test is about the refusal path
    const p = pod({ securityContext: { appArmorProfile: { type: 'RuntimeDefault' } } });
    kubelet.addPod(p);
    const status = await waitFor<PodStatus>('AppArmor rejection', () => {
      const s = kubelet.getPodStatus(p.metadata.uid!);
      return s?.phase === 'Failed' ? s : undefined;
    });
    expect(status.reason).toBe('AppArmor');
    expect(status.message).toContain('Cannot enforce AppArmor: AppArmor is not enabled on the host');
    expect((await client.listPodSandbox({})).items.filter((s) => s.metadata?.uid === p.metadata.uid)).toEqual(
      [],
    );
    await remove(p);

    // Past admission, containerd itself refuses the profile the request carries.
    const direct = pod(
      {},
      { securityContext: { appArmorProfile: { type: 'Localhost', localhostProfile: 'k8s-x' } } },
    );
    const runtime = criPodRuntime(client);
    const sandboxConfig = buildSandboxConfig(direct, {
      attempt: 0,
      clusterDNS: [],
      clusterDomain: '',
      podLogsDir: join(dir, 'logs'),
    });
    await mkdir(sandboxConfig.logDirectory, { recursive: true });
    const sandboxId = await runtime.runPodSandbox(sandboxConfig);
    try {
      const config = buildContainerConfig(direct, direct.spec.containers[0]!, {
        restartCount: 0,
        env: [],
        volumes: new Map(),
        memoryCapacity: 1024 ** 3,
      });
      expect(config.linux.securityContext.apparmor).toEqual({ profileType: 2, localhostRef: 'k8s-x' });
      await expect(runtime.createContainer(sandboxId, config, sandboxConfig)).rejects.toThrow(/apparmor/i);
    } finally {
      await runtime.stopPodSandbox(sandboxId);
      await runtime.removePodSandbox(sandboxId);
    }
  }, 120_000);
});
