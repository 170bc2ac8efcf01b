import { createCriClient } from '@nodeagent/cri-client';
import { FakeRuntime } from '@nodeagent/cri-client/testing';
import { systemClock } from '@nodeagent/primitives';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { instrumentCriClient } from '../src/cri/instrumented-cri';
import { collectProcessMetrics, createKubeletMetrics } from '../src/metrics';
import { createKubeletServer, listen, type RunningServer } from '../src/server/kubelet-server';
import { busybox, type EngineHarness, startEngine, testPod } from './helpers/engine';
import { openServerOptions } from './helpers/open-kubelet-server';
import { waitFor } from './helpers/wait-for';

/** The value of one sample line of a text exposition, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1).split(' ')[0]);
}

describe('kubelet_runtime_operations_* (instrumented CRI client)', () => {
  let fake: FakeRuntime | undefined;
  afterEach(async () => {
    await fake?.stop();
  });

  it('counts and times every CRI call by operation_type, and counts the failed ones', async () => {
    fake = await FakeRuntime.start();
    const metrics = createKubeletMetrics();
    const raw = await createCriClient({ endpoint: fake.endpoint });
    const client = instrumentCriClient(raw, metrics);
    await client.version({});
    await client.listPodSandbox({});
    await client.listPodSandbox({});
    await expect(client.containerStatus({ containerId: 'missing', verbose: false })).rejects.toThrow();
    await expect(client.reopenContainerLog({ containerId: 'missing' })).rejects.toThrow();
    const text = await metrics.registry.metrics();
    expect(sample(text, 'kubelet_runtime_operations_total{operation_type="version"}')).toBe(1);
    expect(sample(text, 'kubelet_runtime_operations_total{operation_type="list_podsandbox"}')).toBe(2);
    expect(sample(text, 'kubelet_runtime_operations_total{operation_type="container_status"}')).toBe(1);
    expect(sample(text, 'kubelet_runtime_operations_errors_total{operation_type="container_status"}')).toBe(
      1,
    );
    expect(
      sample(text, 'kubelet_runtime_operations_errors_total{operation_type="reopen_container_log"}'),
    ).toBe(1);
    expect(
      sample(text, 'kubelet_runtime_operations_errors_total{operation_type="list_podsandbox"}'),
    ).toBeUndefined();
    expect(
      sample(text, 'kubelet_runtime_operations_duration_seconds_count{operation_type="list_podsandbox"}'),
    ).toBe(2);
    // Upstream's buckets: ExponentialBuckets(.005, 2.5, 14).
    expect(text).toContain(
      'kubelet_runtime_operations_duration_seconds_bucket{le="0.005",operation_type="version"} ',
    );
    client.close();
  });

  it('adds the process metrics to the registry', async () => {
    const registry = new Registry();
    collectProcessMetrics(registry);
    const text = await registry.metrics();
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'process_start_time_seconds',
    ])
      expect(text).toContain(`# TYPE ${name} `);
  });
});

describe('/metrics/probes and kubelet_pod_start_duration_seconds', () => {
  let h: EngineHarness | undefined;
  let server: RunningServer | undefined;
  afterEach(async () => {
    await server?.close();
    await h?.close();
  });

  it('counts probe runs by type and result with upstream labels, and observes the pod start', async () => {
    // Probe periods on the real clock: the probe runs come on their own timers.
    h = await startEngine({ pacing: { relistPeriodMs: 100, retryMs: 200, clock: systemClock } });
    let healthy = false;
    h.fake.onExecSync(() => ({ stdout: '', stderr: '', exitCode: healthy ? 0 : 1, blocks: false }));
    const pod = testPod(
      {
        containers: [
          {
            name: 'app',
            image: busybox,
            command: ['sh', '-c', 'sleep 3600'],
            readinessProbe: { exec: { command: ['cat', '/tmp/ready'] }, periodSeconds: 1 },
          },
        ],
      },
      'probed',
    );
    const uid = pod.metadata.uid!;
    h.kubelet.addPod(pod);
    await h.kubelet.settle();
    server = await listen(
      createKubeletServer({
        ...openServerOptions(h),
      }),
      0,
      '127.0.0.1',
    );
    const scrape = async (path: string) => (await fetch(`http://127.0.0.1:${server!.port}${path}`)).text();
    const labels = (result: string) =>
      `prober_probe_total{container="app",namespace="default",pod="probed",pod_uid="${uid}",probe_type="Readiness",result="${result}"}`;
    await waitFor(
      'a failed readiness probe',
      async () => (sample(await scrape('/metrics/probes'), labels('failed')) ?? 0) >= 1,
    );
    healthy = true;
    await waitFor(
      'a successful readiness probe',
      async () => (sample(await scrape('/metrics/probes'), labels('successful')) ?? 0) >= 1,
    );
    const probes = await scrape('/metrics/probes');
    // Upstream's level in HELP (component-base): prober_probe_total BETA, the duration ALPHA
    // (Kubernetes Metrics Reference v1.34; no change in the v1.35 and v1.36 metrics lists).
    expect(probes).toContain(
      '# HELP prober_probe_total [BETA] Cumulative number of a liveness, readiness or startup probe for a container by result.\n',
    );
    expect(probes).toContain(
      '# HELP prober_probe_duration_seconds [ALPHA] Duration in seconds for a probe response.\n',
    );
    expect(probes).toContain('# TYPE prober_probe_total counter');
    expect(probes).toMatch(
      /prober_probe_duration_seconds_count\{container="app",namespace="default",pod="probed",probe_type="Readiness"\} [1-9]/,
    );
    // Kept apart from /metrics, as upstream serves them.
    const main = await scrape('/metrics');
    expect(main).not.toContain('prober_probe_total');
    expect(sample(main, 'kubelet_pod_start_duration_seconds_count')).toBe(1);
  }, 30_000);
});

describe('kubelet_cgroup_version', () => {
  it('exposes the host cgroup version under upstream name and help (set at start by the binary)', async () => {
    const metrics = createKubeletMetrics();
    metrics.cgroupVersion.set(1);
    const text = await metrics.registry.metrics();
    expect(text).toContain('# HELP kubelet_cgroup_version [ALPHA] cgroup version on the hosts.');
    expect(sample(text, 'kubelet_cgroup_version')).toBe(1);
  });
});
