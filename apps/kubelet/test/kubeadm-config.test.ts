import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidConfigError } from '@nodeagent/kubelet';
import { kubeletConfigurationSchema } from '@nodeagent/kubelet/config-schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveKubeletOptions } from '../src/kubelet-flags';
import { startupWarnings } from '../src/startup-warnings';
import { kubeadmArgv } from './kubeadm-drop-in';
import { upstreamKubeletDefaults } from './upstream-kubelet-defaults';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const kubeadmConfig = join(fixtures, 'kubeadm-v1.32', 'config.yaml');
const everyFieldZero = join(fixtures, 'v1beta1-every-field-zero.yaml');

const dropIn = readFileSync(join(fixtures, 'kubeadm-v1.32', '10-kubeadm.conf'), 'utf8');
const flagsEnv = readFileSync(join(fixtures, 'kubeadm-v1.32', 'kubeadm-flags.env'), 'utf8');
/** kubeadm's flags, with --config pointing at the fixture instead of /var/lib/kubelet. */
const kubeadmFlags = kubeadmArgv(dropIn, flagsEnv).map((arg) =>
  arg === '--config=/var/lib/kubelet/config.yaml' ? `--config=${kubeadmConfig}` : arg,
);

function expectFieldByField(actual: Record<string, unknown>, expected: Record<string, unknown>): void {
  const fields = Object.keys(kubeletConfigurationSchema.shape);
  // The expectation is written out for every field the schema has: a new field needs its default here.
  expect(Object.keys(expected).sort()).toEqual([...fields].sort());
  for (const field of fields) expect(actual[field], field).toEqual(expected[field]);
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), `na-kubeadm-config-${process.pid}-`));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("kubeadm v1.32's kubelet configuration", () => {
  it("builds the argv of kubeadm's systemd drop-in", () => {
    expect(kubeadmFlags).toEqual([
      '--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf',
      '--kubeconfig=/etc/kubernetes/kubelet.conf',
      `--config=${kubeadmConfig}`,
      '--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock',
      '--node-ip=192.168.56.11',
      '--hostname-override=worker-1',
      '--pod-infra-container-image=registry.k8s.io/pause:3.10',
    ]);
  });

  it('accepts every flag of the drop-in and yields upstream defaults wherever kubeadm wrote a zero value', async () => {
    const { flags, config, unknownFields } = await resolveKubeletOptions(kubeadmFlags);
    expect(unknownFields).toEqual([]);
    expect(flags.kubeconfig).toBe('/etc/kubernetes/kubelet.conf');
    expect(flags.hostnameOverride).toBe('worker-1');
    expect(flags.nodeIP).toEqual(['192.168.56.11']);
    expect(flags.podInfraContainerImage).toBe('registry.k8s.io/pause:3.10');
    expectFieldByField(config, {
      ...upstreamKubeletDefaults,
      // What kubeadm writes on purpose, and the runtime endpoint its flag gives.
      authentication: {
        x509: { clientCAFile: '/etc/kubernetes/pki/ca.crt' },
        webhook: { enabled: true, cacheTTL: '2m0s' },
        anonymous: { enabled: false },
      },
      cgroupDriver: 'systemd',
      clusterDNS: ['10.96.0.10'],
      clusterDomain: 'cluster.local',
      resolvConf: '/run/systemd/resolve/resolv.conf',
      rotateCertificates: true,
      staticPodPath: '/etc/kubernetes/manifests',
      containerRuntimeEndpoint: 'unix:///var/run/containerd/containerd.sock',
    });
  });

  it('turns every v1beta1 field at its Go zero value into exactly upstream defaults', async () => {
    const { config, unknownFields } = await resolveKubeletOptions([`--config=${everyFieldZero}`]);
    expect(unknownFields).toEqual([]);
    expectFieldByField(config, upstreamKubeletDefaults);
  });

  it('warns once for each accepted setting it does not act on', async () => {
    const options = await resolveKubeletOptions(kubeadmFlags);
    expect(startupWarnings(options)).toEqual([]);
    // pflag's deprecation lines, printed on stderr as upstream prints them.
    expect(options.deprecations).toEqual([
      "Flag --container-runtime-endpoint has been deprecated, This parameter should be set via the config file specified by the Kubelet's --config flag. See https://kubernetes.io/docs/tasks/administer-cluster/kubelet-config-file/ for more information.",
      'Flag --pod-infra-container-image has been deprecated, will be removed in 1.35. Image garbage collector will get sandbox image information from CRI.',
    ]);
  });

  it('enforces the reserved levels without a warning, and refuses what upstream refuses', async () => {
    const levels = await resolveKubeletOptions([
      ...kubeadmFlags,
      '--enforce-node-allocatable=pods,kube-reserved',
      '--kube-reserved-cgroup=/kube-reserved',
    ]);
    expect(levels.config.enforceNodeAllocatable).toEqual(['pods', 'kube-reserved']);
    expect(levels.config.kubeReservedCgroup).toBe('/kube-reserved');
    expect(
      startupWarnings(levels).filter((w) =>
        ['enforceNodeAllocatable', 'kubeReservedCgroup'].includes(w.field),
      ),
    ).toEqual([]);
    // Upstream's ValidateKubeletConfiguration: no enforcement without the QoS cgroups, and the
    // reserved levels need their cgroup.
    const noQos = await resolveKubeletOptions([...kubeadmFlags, '--cgroups-per-qos=false']).catch(
      (e: unknown) => e,
    );
    expect(noQos).toMatchObject({ field: 'enforceNodeAllocatable', value: ['pods'] });
    expect((noQos as Error).message).toContain(
      'is not supported unless cgroupsPerQOS (--cgroups-per-qos) is set to true',
    );
    const noCgroup = await resolveKubeletOptions([
      ...kubeadmFlags,
      '--enforce-node-allocatable=pods,kube-reserved',
    ]).catch((e: unknown) => e);
    expect(noCgroup).toMatchObject({ field: 'kubeReservedCgroup' });
    const none = await resolveKubeletOptions([
      ...kubeadmFlags,
      '--cgroups-per-qos=false',
      '--enforce-node-allocatable=',
    ]);
    expect(none.config.enforceNodeAllocatable).toEqual([]);
    expect(startupWarnings(none).map((w) => w.field)).not.toContain('enforceNodeAllocatable');
  });
});

describe('configuration resolution order', () => {
  const header = 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n';

  it('applies flags before validating: a flag fixes what the file alone gets wrong', async () => {
    const path = join(dir, 'bad-max-pods.yaml');
    await writeFile(path, `${header}maxPods: -5\n`);
    await expect(resolveKubeletOptions([`--config=${path}`])).rejects.toThrow(
      'maxPods: must not be a negative number (got -5)',
    );
    const { config } = await resolveKubeletOptions([`--config=${path}`, '--max-pods=20']);
    expect(config.maxPods).toBe(20);
  });

  it('keeps nodeStatusReportFrequency at an explicitly set nodeStatusUpdateFrequency, as upstream', async () => {
    const path = join(dir, 'status.yaml');
    await writeFile(path, `${header}nodeStatusUpdateFrequency: 20s\nnodeStatusReportFrequency: 0s\n`);
    const { config } = await resolveKubeletOptions([`--config=${path}`]);
    expect(config.nodeStatusUpdateFrequency).toBe('20s');
    expect(config.nodeStatusReportFrequency).toBe('20s');
  });

  it('defaults serializeImagePulls to false when maxParallelImagePulls asks for parallel pulls', async () => {
    const path = join(dir, 'pulls.yaml');
    await writeFile(path, `${header}maxParallelImagePulls: 3\n`);
    const { config } = await resolveKubeletOptions([`--config=${path}`]);
    expect(config.serializeImagePulls).toBe(false);
    expect(config.maxParallelImagePulls).toBe(3);
    await expect(resolveKubeletOptions([`--config=${path}`, '--serialize-image-pulls=true'])).rejects.toThrow(
      /maxParallelImagePulls: cannot be larger than 1 unless serializeImagePulls/,
    );
  });

  it('merges evictionHard with the defaults only when mergeDefaultEvictionSettings is true', async () => {
    const path = join(dir, 'eviction.yaml');
    await writeFile(
      path,
      `${header}evictionHard:\n  memory.available: 1Gi\nmergeDefaultEvictionSettings: true\n`,
    );
    const merged = await resolveKubeletOptions([`--config=${path}`]);
    expect(merged.config.evictionHard).toEqual({
      ...(upstreamKubeletDefaults.evictionHard as object),
      'memory.available': '1Gi',
    });
    await writeFile(path, `${header}evictionHard:\n  memory.available: 1Gi\n`);
    const alone = await resolveKubeletOptions([`--config=${path}`]);
    expect(alone.config.evictionHard).toEqual({ 'memory.available': '1Gi' });
  });

  it('merges --config-dir drop-ins in lexical order over the file, and flags over both', async () => {
    const base = join(dir, 'base.yaml');
    const dropIns = join(dir, 'kubelet.conf.d');
    await mkdir(join(dropIns, 'nested'), { recursive: true });
    await writeFile(
      base,
      `${header}port: 20250\naddress: 192.168.0.1\nclusterDNS: [10.0.0.10, 10.0.0.11]\nauthorization:\n  mode: Webhook\n  webhook:\n    cacheAuthorizedTTL: 5m\n    cacheUnauthorizedTTL: 30s\n`,
    );
    await writeFile(
      join(dropIns, '20-authz.conf'),
      `${header}authorization:\n  mode: AlwaysAllow\n  webhook:\n    cacheAuthorizedTTL: 8m\naddress: 192.168.0.8\n`,
    );
    await writeFile(join(dropIns, '10-dns.conf'), `${header}clusterDNS: [10.0.0.53]\naddress: 192.168.0.5\n`);
    await writeFile(join(dropIns, 'nested', '30-port.conf'), `${header}port: 30250\n`);
    await writeFile(join(dropIns, '99-ignored.yaml'), `${header}port: 1\n`);
    const { config } = await resolveKubeletOptions([
      `--config=${base}`,
      `--config-dir=${dropIns}`,
      '--address=127.0.0.1',
    ]);
    expect(config.authorization).toEqual({
      mode: 'AlwaysAllow',
      webhook: { cacheAuthorizedTTL: '8m', cacheUnauthorizedTTL: '30s' },
    });
    expect(config.clusterDNS).toEqual(['10.0.0.53']);
    expect(config.port).toBe(30250);
    expect(config.address).toBe('127.0.0.1');
  });

  it('refuses a drop-in without apiVersion and kind, naming the file', async () => {
    const dropIns = join(dir, 'bad.conf.d');
    await mkdir(dropIns, { recursive: true });
    await writeFile(join(dropIns, '10-bare.conf'), 'port: 30250\n');
    const error = await resolveKubeletOptions([`--config-dir=${dropIns}`]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect((error as InvalidConfigError).field).toBe('apiVersion');
    expect((error as InvalidConfigError).message).toContain('10-bare.conf');
  });
});

describe('operator flags', () => {
  it('accepts --cloud-provider=external only', async () => {
    expect((await resolveKubeletOptions(['--cloud-provider=external'])).flags.cloudProvider).toBe('external');
    expect((await resolveKubeletOptions([])).flags.cloudProvider).toBe('');
    const error = await resolveKubeletOptions(['--cloud-provider=aws']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect((error as InvalidConfigError).field).toBe('--cloud-provider');
    expect((error as InvalidConfigError).value).toBe('aws');
  });

  it('sets kubeReserved, systemReserved, logging.format and podsPerCore from their flags', async () => {
    const { config } = await resolveKubeletOptions([
      '--kube-reserved=cpu=100m,memory=256Mi',
      '--system-reserved=memory=512Mi,ephemeral-storage=1Gi',
      '--logging-format=json',
      '--pods-per-core=10',
    ]);
    expect(config.kubeReserved).toEqual({ cpu: '100m', memory: '256Mi' });
    expect(config.systemReserved).toEqual({ memory: '512Mi', 'ephemeral-storage': '1Gi' });
    expect(config.logging.format).toBe('json');
    expect(config.podsPerCore).toBe(10);
  });

  it('names the flag when its value is invalid', async () => {
    const error = await resolveKubeletOptions(['--logging-format=xml']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect((error as InvalidConfigError).field).toBe('--logging-format');
    expect((error as InvalidConfigError).value).toBe('xml');
  });
});
