import type { Container, LifecycleHandler, Pod } from '../api/pod-types';
import type { PodRuntime } from '../cri/pod-runtime';

/** What {@link runLifecycleHook} runs a handler with. */
export interface HookContext {
  /** Runs exec handlers (CRI ExecSync). */
  runtime: PodRuntime;
  /** The host of an httpGet handler that names none; without it such a handler fails. */
  podIP: string | undefined;
  /** Waits out a sleep handler, in milliseconds (capped at `timeoutSeconds`). */
  sleep: (ms: number) => Promise<void>;
  /** Upper bound for the hook, seconds. */
  timeoutSeconds: number;
}

/** Resolves a named or numeric port of a container (httpGet/tcpSocket handlers). */
export function resolvePort(port: number | string, container: Container): number | undefined {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

/**
 * Runs a postStart or preStop handler (upstream handlerRunner): exec through the runtime's
 * ExecSync, httpGet against the pod IP (2xx/3xx succeeds), or sleep. Throws with the handler's
 * output when it fails.
 */
export async function runLifecycleHook(
  handler: LifecycleHandler,
  pod: Pod,
  container: Container,
  containerId: string,
  context: HookContext,
): Promise<void> {
  if (handler.exec) {
    const result = await context.runtime.execSync(
      containerId,
      handler.exec.command ?? [],
      context.timeoutSeconds,
    );
    if (result.exitCode !== 0) {
      const output = Buffer.concat([result.stdout, result.stderr]).toString('utf8').trim();
      throw new Error(
        `command '${(handler.exec.command ?? []).join(' ')}' exited with ${result.exitCode}: ${output}`,
      );
    }
    return;
  }
  if (handler.httpGet) {
    const get = handler.httpGet;
    const port = resolvePort(get.port, container);
    if (port === undefined)
      throw new Error(`unknown port ${String(get.port)} in container ${container.name}`);
    const host = get.host || context.podIP;
    if (!host) throw new Error('pod has no IP for the httpGet hook');
    const scheme = (get.scheme ?? 'HTTP').toLowerCase();
    const hostPart = host.includes(':') ? `[${host}]` : host;
    const path = get.path ? (get.path.startsWith('/') ? get.path : `/${get.path}`) : '/';
    const headers: Record<string, string> = {};
    for (const header of get.httpHeaders ?? []) headers[header.name] = header.value;
    const response = await fetch(`${scheme}://${hostPart}:${port}${path}`, {
      headers,
      signal: AbortSignal.timeout(context.timeoutSeconds * 1000),
    });
    await response.arrayBuffer().catch(() => undefined);
    if (response.status < 200 || response.status >= 400) {
      throw new Error(
        `HTTP lifecycle hook (${path}) for Container "${container.name}" in Pod "${pod.metadata.name}" failed - error: received status code ${response.status}`,
      );
    }
    return;
  }
  if (handler.sleep) {
    // Upstream returns at once for `seconds: 0` (allowed since v1.33, PodLifecycleSleepActionAllowZero):
    // no timer at all, the hook simply succeeds.
    const seconds = Math.min(handler.sleep.seconds, context.timeoutSeconds);
    if (seconds > 0) await context.sleep(seconds * 1000);
    return;
  }
  if (handler.tcpSocket) throw new Error('tcpSocket is not a supported lifecycle handler');
}
