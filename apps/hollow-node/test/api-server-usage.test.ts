import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { metricsUsage, parseApiServerMetrics } from '../src/index';

// The API server's CPU and watches from kube-apiserver's /metrics text.

const METRICS = `# HELP apiserver_longrunning_requests [STABLE] Gauge of all active long-running apiserver requests broken out by verb, group, version, resource, scope and component. Not all requests are tracked this way.
# TYPE apiserver_longrunning_requests gauge
apiserver_longrunning_requests{component="apiserver",group="",resource="pods",scope="cluster",subresource="",verb="WATCH",version="v1"} 1000
apiserver_longrunning_requests{component="apiserver",group="discovery.k8s.io",resource="endpointslices",scope="cluster",subresource="",verb="WATCH",version="v1"} 1001
apiserver_longrunning_requests{component="apiserver",group="",resource="pods",scope="namespace",subresource="exec",verb="CONNECT",version="v1"} 2
# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total 1234.56
process_resident_memory_bytes 4.2e+09
`;

let server: Server | undefined;

afterEach(async () => {
  const running = server;
  server = undefined;
  if (running) await new Promise((resolve) => running.close(resolve));
});

/** A server answering /metrics with `body` and `status`; a kubeconfig for it with a token. */
async function metricsServer(
  status: number,
  body: string,
): Promise<{ kubeConfig: KubeConfig; auth: string[] }> {
  const auth: string[] = [];
  const listening = createServer((req, res) => {
    auth.push(`${req.url} ${req.headers.authorization}`);
    res.writeHead(req.url === '/metrics' ? status : 404, { 'Content-Type': 'text/plain' });
    res.end(body);
  });
  server = listening;
  await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve));
  const { port } = listening.address() as AddressInfo;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'abc' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return { kubeConfig, auth };
}

describe('the API server usage from /metrics', () => {
  it('reads process_cpu_seconds_total and sums apiserver_longrunning_requests over WATCH', () => {
    expect(parseApiServerMetrics(METRICS)).toEqual({ cpuSeconds: 1234.56, watches: 2001 });
  });

  it('no watch gauge: watches unknown; no CPU counter: an error naming it', () => {
    expect(parseApiServerMetrics('process_cpu_seconds_total 3\n')).toEqual({
      cpuSeconds: 3,
      watches: undefined,
    });
    expect(() => parseApiServerMetrics('go_goroutines 12\n')).toThrow(
      '/metrics has no process_cpu_seconds_total',
    );
  });

  it("GETs /metrics with the kubeconfig's credentials", async () => {
    const { kubeConfig, auth } = await metricsServer(200, METRICS);
    const source = metricsUsage(kubeConfig);
    expect(source.name).toBe('/metrics');
    expect(await source.read()).toEqual({ cpuSeconds: 1234.56, watches: 2001 });
    expect(auth).toEqual(['/metrics Bearer abc']);
  });

  it('a refusal is an error with the status and the answer', async () => {
    const { kubeConfig } = await metricsServer(
      403,
      'forbidden: User "system:bootstrap:abcdef" cannot get path "/metrics"',
    );
    await expect(metricsUsage(kubeConfig).read()).rejects.toThrow(
      'GET /metrics: 403 forbidden: User "system:bootstrap:abcdef" cannot get path "/metrics"',
    );
  });
});
