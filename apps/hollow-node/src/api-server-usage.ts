import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

/** What the API server has used so far, read at the start of a run and at the report. */
export interface ApiServerUsage {
  /** CPU seconds of the API server's process since it started. */
  cpuSeconds: number;
  /** Watches it serves now (all clients', not only the hollow nodes'), when it says. */
  watches: number | undefined;
}

/** Where the usage is read: kube-apiserver's /metrics, or a caller's own (an API server in this process). */
export interface ApiServerUsageSource {
  /** Said in the report: `/metrics` or what the caller names. */
  name: string;
  read(): Promise<ApiServerUsage>;
}

/** One sample line of the Prometheus text format: name, labels, value. */
const SAMPLE = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/;

/**
 * kube-apiserver's own figures from its /metrics text: `process_cpu_seconds_total`, and the
 * watches it serves as the sum of `apiserver_longrunning_requests{verb="WATCH"}` over resources.
 */
export function parseApiServerMetrics(text: string): ApiServerUsage {
  let cpuSeconds: number | undefined;
  let watches: number | undefined;
  for (const line of text.split('\n')) {
    const sample = SAMPLE.exec(line);
    if (!sample) continue;
    const [, name, labels = '', value] = sample;
    if (name === 'process_cpu_seconds_total') cpuSeconds = Number(value);
    else if (name === 'apiserver_longrunning_requests' && labels.includes('verb="WATCH"'))
      watches = (watches ?? 0) + Number(value);
  }
  if (cpuSeconds === undefined || !Number.isFinite(cpuSeconds))
    throw new Error('/metrics has no process_cpu_seconds_total');
  return { cpuSeconds, watches };
}

/** GET `path` from the kubeconfig's server with its credentials; the body as text. */
async function getText(kubeConfig: KubeConfig, path: string): Promise<string> {
  const server = kubeConfig.getCurrentCluster()?.server;
  if (!server) throw new Error('the kubeconfig names no server');
  const url = new URL(server.replace(/\/+$/, '') + path);
  const options: RequestOptions = {};
  await kubeConfig.applyToHTTPSOptions(options);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      { ...options, method: 'GET', headers: { ...options.headers, Accept: 'text/plain' } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () =>
          (res.statusCode ?? 0) < 300
            ? resolve(body)
            : reject(new Error(`GET ${path}: ${res.statusCode} ${body.slice(0, 200).trim()}`)),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error(`GET ${path}: no answer in 30 s`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * The API server's usage from its /metrics, read with `kubeConfig`'s credentials (the
 * kubeconfig the hollow nodes were given, not a node's: these requests are nobody's load).
 */
export function metricsUsage(kubeConfig: KubeConfig): ApiServerUsageSource {
  return {
    name: '/metrics',
    read: async () => parseApiServerMetrics(await getText(kubeConfig, '/metrics')),
  };
}

/**
 * An API server in this process (tests, the bench's own): this process's CPU and the watches
 * `openWatches` says it serves. The CPU is the whole process's, hollow nodes included when they
 * run here too.
 */
export function inProcessUsage(openWatches: () => number): ApiServerUsageSource {
  return {
    name: 'in-process',
    read: async () => {
      const cpu = process.cpuUsage();
      return { cpuSeconds: (cpu.user + cpu.system) / 1e6, watches: openWatches() };
    },
  };
}
