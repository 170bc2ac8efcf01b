import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Netns } from '@nodeagent/testing';

// One helper process inside the bench's namespace, so that nothing measured pays for an
// nsenter per look: it reads the daemon's metrics port and times a bare list from the API server
// the namespace reaches at 127.0.0.1:<apiPort> (the bench's own, served there directly). It
// exits when its stdin closes, so a killed bench leaves no helper behind.

const PROBE = `
const http = require('node:http');
const [apiPort, metricsPort] = process.argv.slice(1);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
out({ ready: true });
function get(port, path) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: Number(port), path, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => res.statusCode === 200 ? resolve(Buffer.concat(chunks)) : reject(new Error(path + ': ' + res.statusCode)));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}
// The newest IPv4 sync's end: kubeproxy_sync_proxy_rules_last_timestamp_seconds{ip_family="IPv4"}
// (or unlabelled, from a daemon before the label).
const lastSync = (text) => {
  const m = /^kubeproxy_sync_proxy_rules_last_timestamp_seconds(?:\\{[^}]*ip_family="IPv4"[^}]*\\})? (\\S+)$/m.exec(text);
  return m ? Number(m[1]) : 0;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// Failed syncs of either kind (restore or nftables transaction), any family.
const failures = (text) =>
  [...text.matchAll(/^kubeproxy_sync_proxy_rules_(?:nftables_sync|iptables_restore)_failures_total(?:\\{[^}]*\\})? (\\S+)$/gm)]
    .reduce((sum, m) => sum + Number(m[1]), 0);
async function waitSync({ after, intervalMs, timeoutMs, stopOnFailure, firstAfterMs }) {
  const end = Date.now() + timeoutMs;
  if (firstAfterMs > 0) await sleep(firstAfterMs);
  while (Date.now() < end) {
    const text = await get(metricsPort, '/metrics').then(String, () => '');
    if (lastSync(text) > after) return { text };
    if (stopOnFailure && failures(text) > 0) return { text, failed: true };
    await sleep(intervalMs);
  }
  return { timeout: true };
}
async function list({ paths }) {
  const t0 = performance.now();
  let bytes = 0;
  let items = 0;
  await Promise.all(paths.map(async (p) => {
    const body = await get(apiPort, p);
    bytes += body.length;
    items += JSON.parse(body.toString()).items.length;
  }));
  return { ms: performance.now() - t0, bytes, items };
}
// Reads a GET's whole body with this Accept header; its size.
function drain(port, path, accept) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: Number(port), path, agent: false, headers: { Accept: accept } }, (res) => {
      let bytes = 0;
      res.on('data', (c) => { bytes += c.length; });
      res.on('end', () => res.statusCode === 200 ? resolve(bytes) : reject(new Error(path + ': ' + res.statusCode)));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}
// Each path read once per Accept header: a watch-list stream (ended by its 1 s timeout), or a LIST.
async function warm({ paths, accepts, stream }) {
  const t0 = performance.now();
  let bytes = 0;
  const query = stream
    ? '?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=1'
    : '';
  for (const p of paths) for (const a of accepts) bytes += await drain(apiPort, p + query, a);
  return { ms: performance.now() - t0, bytes };
}
async function scrape() {
  return { text: String(await get(metricsPort, '/metrics')) };
}
const ops = { waitSync, list, scrape, warm };
require('node:readline').createInterface({ input: process.stdin }).on('line', (line) => {
  const cmd = JSON.parse(line);
  ops[cmd.op](cmd).then(out, (e) => out({ error: String(e) }));
});
`;

/** What the probe's `waitSync` answers: the metrics text once a newer sync ended, or a timeout. */
export interface SyncSeen {
  text?: string;
  timeout?: boolean;
  /** With `stopOnFailure`: a sync failed before one succeeded. */
  failed?: boolean;
}

/** What the probe's bare list measured. */
export interface BareList {
  ms: number;
  bytes: number;
  items: number;
}

/** The helper process in the namespace; one command at a time. */
export class ScaleProbe {
  private readonly replies: ((line: string) => void)[] = [];

  private constructor(private readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => this.replies.shift()?.(line));
  }

  /** Starts the helper in `ns`, where 127.0.0.1:`apiPort` is the API server. */
  static async start(ns: Netns, apiPort: number, metricsPort: number): Promise<ScaleProbe> {
    const child = ns.spawn(process.execPath, ['-e', PROBE, String(apiPort), String(metricsPort)], {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { ...process.env, NODE_OPTIONS: '' }, // not the bench's tsx loader
    });
    const probe = new ScaleProbe(child);
    const ready = new Promise<void>((resolve, reject) => {
      probe.replies.push(() => resolve());
      child.once('exit', (code) => reject(new Error(`scale probe exited (${code})`)));
    });
    await ready;
    return probe;
  }

  private request<T>(cmd: Record<string, unknown>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.replies.push((line) => {
        const reply = JSON.parse(line) as T & { error?: string };
        if (reply.error) reject(new Error(`scale probe: ${reply.error}`));
        else resolve(reply);
      });
      this.child.stdin?.write(`${JSON.stringify(cmd)}\n`);
    });
  }

  /**
   * Polls the daemon's /metrics every `intervalMs` until an IPv4 sync ended after `after` (epoch
   * seconds); with `stopOnFailure`, also until a failed sync is counted. The first poll waits
   * `firstAfterMs`: a scrape sent with an endpoint change reached the daemon with its watch
   * event and was served first about half the time (issue #54: the bench's own work, not the
   * daemon's, in the change's latency; Prometheus scrapes every 15 s or more).
   */
  waitSync(
    after: number,
    intervalMs: number,
    timeoutMs: number,
    stopOnFailure = false,
    firstAfterMs = 0,
  ): Promise<SyncSeen> {
    return this.request({ op: 'waitSync', after, intervalMs, timeoutMs, stopOnFailure, firstAfterMs });
  }

  /** The daemon's /metrics text, once. */
  async scrape(): Promise<string> {
    return (await this.request<{ text: string }>({ op: 'scrape' })).text;
  }

  /** GETs `paths` from the API server at once, as the daemon reaches it; JSON.parse each. */
  list(paths: string[]): Promise<BareList> {
    return this.request({ op: 'list', paths });
  }

  /**
   * Reads `paths` once per Accept header in `accepts`, as watch-list streams (`stream`) or LISTs,
   * so the server has encoded every object in those formats before the daemon starts (see
   * ScenarioSettings.warmServer).
   */
  warm(paths: string[], accepts: string[], stream: boolean): Promise<{ ms: number; bytes: number }> {
    return this.request({ op: 'warm', paths, accepts, stream });
  }

  /** Ends the helper (closing its stdin is enough; the namespace's deletion kills it too). */
  close(): void {
    this.child.stdin?.end();
  }
}

/**
 * A sample's value in Prometheus text: the IPv4 proxier's (ip_family="IPv4", other labels
 * allowed) or an unlabelled one; undefined if there is none. The bench's cluster is IPv4: the
 * IPv6 proxier's syncs of nothing must not count.
 */
export function metricValue(text: string, name: string): number | undefined {
  const m = new RegExp(`^${name}(?:\\{[^}]*ip_family="IPv4"[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}
