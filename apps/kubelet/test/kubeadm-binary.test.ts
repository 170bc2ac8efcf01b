import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api } from '@kubernetes/client-node';
import { FakeRuntime } from '@nodeagent/cri-client/testing';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, freePorts, killChild, NO_HOST_IPTABLES, node, waitFor } from './binary-harness';
import { kubeadmArgv } from './kubeadm-drop-in';

const fixtures = fileURLToPath(new URL('./fixtures/kubeadm-v1.32/', import.meta.url));
const NODE = 'kubeadm-worker';

const binaryUnits: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30 };
/** Bytes of a memory quantity as the Node reports it ("24576Mi", "1024", "16Gi"). */
function bytes(quantity: string): number {
  const match = /^(\d+)(Ki|Mi|Gi)?$/.exec(quantity);
  if (!match) throw new Error(`unexpected quantity ${quantity}`);
  return Number(match[1]) * (match[2] ? binaryUnits[match[2]]! : 1);
}
/** Millicores of a CPU quantity ("2", "1900m"). */
function milliCpu(quantity: string): number {
  return quantity.endsWith('m') ? Number(quantity.slice(0, -1)) : Number(quantity) * 1000;
}

/**
 * The binary run the way kubeadm runs it: kubeadm's config.yaml (host paths moved into a temp
 * dir), the flags its systemd drop-in and kubeadm-flags.env give (the bootstrap kubeconfig
 * holding a bootstrap token, the kubeconfig not there yet), and what an operator adds through
 * KUBELET_EXTRA_ARGS (/etc/default/kubelet).
 */
describe('nodeagent-kubelet started as kubeadm starts the kubelet', () => {
  let dir: string;
  let api: ApiServer;
  let fake: FakeRuntime;
  let child: ChildProcess | undefined;
  let output = '';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), `na-kubeadm-bin-${process.pid}-`));
    api = await startApiServer({ tls: true });
    fake = await FakeRuntime.start({ images: [] });
  });

  afterAll(async () => {
    await killChild(child);
    await fake?.stop();
    await api?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('joins with the bootstrap token, registers a Node with reserved resources and providerID, serves the read-only port and names what it ignores', async () => {
    await mkdir(join(dir, 'manifests'));
    await writeFile(join(dir, 'ca.crt'), api.clientCA as string);
    await writeFile(join(dir, 'resolv.conf'), 'nameserver 127.0.0.53\n');
    const config = (await readFile(join(fixtures, 'config.yaml'), 'utf8'))
      .replace('/etc/kubernetes/pki/ca.crt', join(dir, 'ca.crt'))
      .replace('/etc/kubernetes/manifests', join(dir, 'manifests'))
      .replace('/run/systemd/resolve/resolv.conf', join(dir, 'resolv.conf'));
    await writeFile(join(dir, 'config.yaml'), config);
    api.writeBootstrapKubeconfig(join(dir, 'bootstrap-kubelet.conf'), api.createBootstrapToken());

    const [port, readOnlyPort] = await freePorts(2);
    const extraArgs = [
      `--root-dir=${join(dir, 'root')}`,
      `--cert-dir=${join(dir, 'pki')}`,
      `--volume-plugin-dir=${join(dir, 'volume-plugins')}`,
      `--port=${port}`,
      `--read-only-port=${readOnlyPort}`,
      '--healthz-port=0',
      '--address=127.0.0.1',
      NO_HOST_IPTABLES,
      '--cgroups-per-qos=false',
      // Upstream refuses enforceNodeAllocatable (default [pods]) without the QoS cgroups.
      '--enforce-node-allocatable=',
      // failCgroupV1 defaults to true (v1.35+): the test hosts may be cgroup v1.
      '--fail-cgroupv1=false',
      // A cAdvisor flag: accepted, warned about as having no effect here.
      '--housekeeping-interval=15s',
      '--kube-reserved=cpu=100m,memory=128Mi',
      '--system-reserved=memory=256Mi',
      '--provider-id=external://kubeadm-worker',
      '--cloud-provider=external',
    ].join(' ');
    const dropIn = (await readFile(join(fixtures, '10-kubeadm.conf'), 'utf8'))
      .replace('/etc/kubernetes/bootstrap-kubelet.conf', join(dir, 'bootstrap-kubelet.conf'))
      .replace('/etc/kubernetes/kubelet.conf', join(dir, 'kubelet.conf'))
      .replace('/var/lib/kubelet/config.yaml', join(dir, 'config.yaml'));
    const flagsEnv = (await readFile(join(fixtures, 'kubeadm-flags.env'), 'utf8'))
      .replace('unix:///var/run/containerd/containerd.sock', fake.endpoint)
      .replace('--node-ip=192.168.56.11', '--node-ip=127.0.0.1')
      .replace('--hostname-override=worker-1', `--hostname-override=${NODE}`);

    child = spawn(node, [cli, ...kubeadmArgv(dropIn, flagsEnv, extraArgs)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr?.on('data', (chunk) => {
      output += chunk;
    });
    const core = api.kubeConfig().makeApiClient(CoreV1Api);
    // A busy machine takes tens of seconds to load the binary from source.
    const registered = await waitFor(
      'node registered with status',
      async () => {
        const found = await core.readNode({ name: NODE });
        return found.status?.allocatable?.memory ? found : undefined;
      },
      120_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}; kubelet output:\n${output}`);
    });

    expect(registered.spec?.providerID).toBe('external://kubeadm-worker');
    expect(registered.spec?.taints).toContainEqual({
      key: 'node.cloudprovider.kubernetes.io/uninitialized',
      value: 'true',
      effect: 'NoSchedule',
    });
    const capacity = registered.status?.capacity ?? {};
    const allocatable = registered.status?.allocatable ?? {};
    // Allocatable = capacity − kubeReserved − systemReserved − evictionHard memory.available (100Mi).
    expect(bytes(capacity.memory!) - bytes(allocatable.memory!)).toBe((128 + 256 + 100) * 2 ** 20);
    expect(milliCpu(capacity.cpu!) - milliCpu(allocatable.cpu!)).toBe(100);

    // The read-only server: reads without authentication, debugging handlers disabled (405).
    // The servers listen after the node registers: wait for the port to answer.
    const pods = await waitFor(
      'read-only server',
      () => fetch(`http://127.0.0.1:${readOnlyPort}/pods`),
      60_000,
    );
    expect(pods.status).toBe(200);
    expect(((await pods.json()) as { kind: string }).kind).toBe('PodList');
    const logs = await fetch(`http://127.0.0.1:${readOnlyPort}/containerLogs/default/p/c`);
    expect([logs.status, await logs.text()]).toEqual([405, 'Debug endpoints are disabled.\n']);
    // The binary's metrics wiring: CRI calls counted, process metrics, /metrics/resource.
    const metrics = await (await fetch(`http://127.0.0.1:${readOnlyPort}/metrics`)).text();
    expect(metrics).toMatch(/^kubelet_runtime_operations_total\{operation_type="version"\} [1-9]/m);
    expect(metrics).toContain('# TYPE process_cpu_seconds_total counter');
    // component-base's series, as upstream's: the build, and the kubelet's own API requests (the
    // Node's registration, its Lease, the pod watch) counted by the API client.
    expect(metrics).toMatch(/^kubernetes_build_info\{[^}]*git_version="v1\.36\.3"[^}]*\} 1$/m);
    const apiHost = new URL(api.url).host;
    expect(metrics).toMatch(
      new RegExp(
        `^rest_client_requests_total\\{code="20[01]",host="${apiHost}",method="(GET|POST)"\\} [1-9]`,
        'm',
      ),
    );
    expect(metrics).toContain('kubelet_metrics_provider{provider="cadvisor"} 1');
    const resource = await (await fetch(`http://127.0.0.1:${readOnlyPort}/metrics/resource`)).text();
    // The kubelet creates --root-dir at start (upstream's setupDataDirs), so the summary's nodefs
    // statfs works and the node's own series are there.
    expect(resource).toMatch(/^# TYPE resource_scrape_error gauge\nresource_scrape_error 0$/m);
    expect(resource).toMatch(/^node_cpu_usage_seconds_total \S+ \d+$/m);

    // klog text lines (the default format), one warning per accepted setting without effect.
    expect(output).toMatch(/^W\d{4} [\d:.]+ +\d+ kubelet\] "--housekeeping-interval has no effect: /m);
    expect(output.match(/--housekeeping-interval has no effect/g)).toHaveLength(1);
    // pflag's deprecation line, as upstream prints it.
    expect(output).toMatch(/^Flag --pod-infra-container-image has been deprecated, /m);
    // containerLog* are applied: log rotation runs with kubeadm's (default) settings, no warning.
    expect(output).toContain('Initializing container log rotate workers');
    expect(output).not.toMatch(/field containerLog\w+ is not supported/);
    expect(output).not.toContain('invalid configuration');
  }, 400_000);
});
