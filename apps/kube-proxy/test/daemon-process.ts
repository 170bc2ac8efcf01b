import { bundleAppCli } from '../../../tools/bundle/bundle-entry';

// What the tests that run the real binary share.

/**
 * The binary's entry point, bundled from the sources once per test worker (workers keep their
 * modules between files): through tsx each start cost about 3 CPU-s of transpiling before the
 * proxy ran. Run it as `node cli …`, node itself, so that a signal (or afterAll's SIGKILL)
 * reaches the proxy, not a wrapper that could leave it running.
 */
export const cli = bundleAppCli('kube-proxy');

/**
 * The daemon in userspace bind-only mode (no kernel rules, no root needed) as node `node-a`, with
 * these healthz and metrics addresses ('' turns a server off).
 */
export function bindOnlyDaemonArgs(kubeconfig: string, healthz: string, metrics: string): string[] {
  return [
    '--kubeconfig',
    kubeconfig,
    '--hostname-override',
    'node-a',
    '--proxy-mode',
    'userspace',
    '--userspace-bind-only',
    '--healthz-bind-address',
    healthz,
    '--metrics-bind-address',
    metrics,
  ];
}

/**
 * Polls `fn` every 200 ms until `ok` holds or `timeoutMs` passes; returns the last value. The
 * default leaves room for a daemon started on a machine whose cores are all busy.
 */
export async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 90_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let v = await fn();
  while (!ok(v) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 200));
    v = await fn();
  }
  return v;
}
