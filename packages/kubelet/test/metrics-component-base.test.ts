import { coreV1Requests } from '@nodeagent/informer';
import { setRestClientMetrics } from '@nodeagent/informer/rest-client-metrics';
import { buildInfoLabels } from '@nodeagent/primitives/component-base-metrics';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createKubeletMetrics } from '../src/metrics';

/** `name{a="1",b="2"}` as the exposition writes a series' labels. */
function series(name: string, labels: Record<string, string>): string {
  return `${name}{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',')}}`;
}

describe("the kubelet's /metrics carries component-base's series, as upstream v1.36's", () => {
  let server: ApiServer | undefined;
  afterEach(async () => {
    setRestClientMetrics(undefined);
    await server?.close();
    server = undefined;
  });

  it('kubernetes_build_info [BETA] with the version --version reports, and kubelet_metrics_provider', async () => {
    const text = await createKubeletMetrics().registry.metrics();
    expect(text).toMatch(/^# HELP kubernetes_build_info \[BETA\] A metric with a constant '1' value /m);
    expect(text).toContain(`${series('kubernetes_build_info', buildInfoLabels())} 1\n`);
    expect(text).toContain('git_version="v1.36.3"');
    expect(text).toContain(
      "# HELP kubelet_metrics_provider [ALPHA] Metrics provider used by kubelet to collect container stats. Values can be 'cadvisor' and 'cri'",
    );
    expect(text).toContain('kubelet_metrics_provider{provider="cadvisor"} 1\n');
  });

  it('an API request through the client counts in rest_client_requests_total{code,host,method}', async () => {
    server = await startApiServer();
    const host = new URL(server.url).host;
    const metrics = createKubeletMetrics();
    setRestClientMetrics(metrics.restClient);
    const core = coreV1Requests(server.kubeConfig());
    await core.createNode({ body: { metadata: { name: 'n1' } } });
    await core.readNode({ name: 'n1' });
    await core.readNode({ name: 'n1' });
    const text = await metrics.registry.metrics();
    expect(text).toContain(`rest_client_requests_total{code="201",host="${host}",method="POST"} 1\n`);
    expect(text).toContain(`rest_client_requests_total{code="200",host="${host}",method="GET"} 2\n`);
    expect(text).toContain(`rest_client_request_duration_seconds_count{host="${host}",verb="GET"} 2\n`);
    expect(text).toContain(`rest_client_response_size_bytes_count{host="${host}",verb="POST"} 1\n`);
    expect(text).toMatch(/^# HELP rest_client_requests_total \[ALPHA\] Number of HTTP requests/m);
  });
});
