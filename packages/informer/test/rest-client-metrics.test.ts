import type { V1Node } from '@kubernetes/client-node';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ApiRequestError,
  apiRequest,
  KubeListerWatcher,
  rateLimitedKubeConfig,
  TokenBucketRateLimiter,
  type Wire,
} from '../src/index';
import { type RestClientMetrics, setRestClientMetrics } from '../src/rest-client-metrics-entry';

/** Every observation the API client made, as `name verb/method host [code]`, and the numbers. */
function recorder() {
  const calls: { call: string; value?: number }[] = [];
  const metrics: RestClientMetrics = {
    requestResult: (code, method, host) => calls.push({ call: `result ${method} ${host} ${code}` }),
    requestLatency: (verb, host, value) => calls.push({ call: `latency ${verb} ${host}`, value }),
    requestSize: (verb, host, value) => calls.push({ call: `requestSize ${verb} ${host}`, value }),
    responseSize: (verb, host, value) => calls.push({ call: `responseSize ${verb} ${host}`, value }),
    rateLimiterLatency: (verb, host, value) => calls.push({ call: `rateLimiter ${verb} ${host}`, value }),
  };
  return { calls, metrics, names: () => calls.map((c) => c.call) };
}

describe('API requests report to the connected rest_client metrics, as client-go requests do', {
  timeout: 30_000,
}, () => {
  let server: ApiServer | undefined;
  afterEach(async () => {
    setRestClientMetrics(undefined);
    await server?.close();
    server = undefined;
  });

  it('a write: its answer code, method and host, the bytes each way and one latency', async () => {
    server = await startApiServer();
    const host = new URL(server.url).host;
    const seen = recorder();
    setRestClientMetrics(seen.metrics);
    const body = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } };
    await apiRequest(server.kubeConfig(), { method: 'POST', path: '/api/v1/nodes', body });
    expect(seen.names()).toEqual([
      `requestSize POST ${host}`,
      `result POST ${host} 201`,
      `responseSize POST ${host}`,
      `latency POST ${host}`,
    ]);
    expect(seen.calls[0]?.value).toBe(JSON.stringify(body).length);
    expect(seen.calls[2]?.value).toBeGreaterThan(JSON.stringify(body).length);
    expect(seen.calls[3]?.value).toBeGreaterThanOrEqual(0);
  });

  it('a failed read counts with the server status; a GET sends 0 bytes', async () => {
    server = await startApiServer();
    const host = new URL(server.url).host;
    const seen = recorder();
    setRestClientMetrics(seen.metrics);
    const missing = await apiRequest(server.kubeConfig(), {
      method: 'GET',
      path: '/api/v1/nodes/nope',
    }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ApiRequestError);
    expect(seen.names()).toContain(`result GET ${host} 404`);
    expect(seen.calls.find((c) => c.call.startsWith('requestSize'))?.value).toBe(0);
  });

  it('a request that gets no answer counts as <error>, still timed', async () => {
    server = await startApiServer();
    const kubeConfig = server.kubeConfig();
    const host = new URL(server.url).host;
    await server.close();
    server = undefined;
    const seen = recorder();
    setRestClientMetrics(seen.metrics);
    await expect(apiRequest(kubeConfig, { method: 'GET', path: '/api/v1/nodes' })).rejects.toThrow();
    expect(seen.names()).toEqual([
      `requestSize GET ${host}`,
      `result GET ${host} <error>`,
      `latency GET ${host}`,
    ]);
  });

  it('a list is counted, sized and timed; a watch only counted; rate-limiter waits recorded', async () => {
    server = await startApiServer();
    const host = new URL(server.url).host;
    const seen = recorder();
    setRestClientMetrics(seen.metrics);
    // A limiter whose waits resolve at once (kube-proxy's clientConnection.qps/burst).
    const limiter = new TokenBucketRateLimiter({ qps: 1, burst: 1, sleep: async () => undefined });
    const lw = new KubeListerWatcher<Wire<V1Node>>(rateLimitedKubeConfig(server.kubeConfig(), limiter), {
      apiVersion: 'v1',
      plural: 'nodes',
    });
    await lw.list({}, AbortSignal.timeout(10_000));
    expect(seen.names()).toEqual([
      `rateLimiter GET ${host}`,
      `requestSize GET ${host}`,
      `result GET ${host} 200`,
      `responseSize GET ${host}`,
      `latency GET ${host}`,
    ]);
    seen.calls.length = 0;
    // The server ends the watch after timeoutSeconds.
    await lw.watch(
      { resourceVersion: '', timeoutSeconds: 1, inactivityTimeoutMs: 30_000, allowWatchBookmarks: false },
      () => undefined,
      AbortSignal.timeout(20_000),
    );
    expect(seen.names()).toEqual([`rateLimiter GET ${host}`, `result GET ${host} 200`]);
  });

  it('records nothing with no metrics connected, and stops once disconnected', async () => {
    server = await startApiServer();
    const seen = recorder();
    setRestClientMetrics(seen.metrics);
    setRestClientMetrics(undefined);
    await apiRequest(server.kubeConfig(), { method: 'GET', path: '/api/v1/nodes' });
    expect(seen.calls).toEqual([]);
  });
});
