import { KUBERNETES_VERSION } from '@nodeagent/primitives';
import { goAtoi, goQuote, joinHostPort } from '@nodeagent/primitives/go-text';
import { runHttpProbe } from '@nodeagent/probes';
import type { Container, LifecycleHandler, Pod } from '../api/pod-types';
import { goErrorText } from '../cri/go-grpc-error';
import type { PodRuntime } from '../cri/pod-runtime';
import { formatPod } from '../events/event-reasons';

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

/** What a hook that succeeded leaves for its caller to report. */
export interface HookOutcome {
  /**
   * An HTTPS httpGet hook answered in plaintext that then succeeded over HTTP: the `host:port` it
   * reached (upstream records `LifecycleHTTPFallback` and counts it).
   */
  httpFallback?: string;
}

/** Resolves a named or numeric port of a container (httpGet/tcpSocket handlers). */
export function resolvePort(port: number | string, container: Container): number | undefined {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

/**
 * Runs a postStart or preStop handler (upstream handlerRunner): exec through the runtime's
 * ExecSync, httpGet against the pod IP (any answer succeeds: upstream checks no status code), or
 * sleep. Throws an Error whose message is upstream's for the failed hook (the container's
 * `PostStartHookError` message): `Exec lifecycle hook ([cmd]) for Container "c" in Pod
 * "p_ns(uid)" failed - error: …, message: "…"` or `HTTP lifecycle hook (/path) for Container … failed
 * - error: Get "…": …`.
 */
export async function runLifecycleHook(
  handler: LifecycleHandler,
  pod: Pod,
  container: Container,
  containerId: string,
  context: HookContext,
): Promise<HookOutcome> {
  if (handler.exec) {
    const command = handler.exec.command ?? [];
    const failed = (error: string, output: string) =>
      new Error(
        `Exec lifecycle hook ([${command.join(' ')}]) for Container ${goQuote(container.name)} in Pod ${goQuote(formatPod(pod))} failed - error: ${error}, message: ${goQuote(output)}`,
      );
    const result = await context.runtime
      .execSync(containerId, command, context.timeoutSeconds)
      .catch((error: unknown) => {
        throw failed(goErrorText(error), '');
      });
    if (result.exitCode !== 0) {
      // RunInContainer's output is stdout then stderr; its error, ExecSync's CodeExitError.
      const stderr = result.stderr.toString('utf8');
      const output = Buffer.concat([result.stdout, result.stderr]).toString('utf8');
      throw failed(`command '${command.join(' ')}' exited with ${result.exitCode}: ${stderr}`, output);
    }
    return {};
  }
  if (handler.httpGet) {
    const answer = await runHttpHook(handler.httpGet, container, context);
    if ('error' in answer)
      throw new Error(
        `HTTP lifecycle hook (${handler.httpGet.path ?? ''}) for Container ${goQuote(container.name)} in Pod ${goQuote(formatPod(pod))} failed - error: ${answer.error}`,
      );
    return answer;
  }
  if (handler.sleep) {
    // Upstream returns at once for `seconds: 0` (allowed since v1.33, PodLifecycleSleepActionAllowZero):
    // no timer at all, the hook simply succeeds.
    const seconds = Math.min(handler.sleep.seconds, context.timeoutSeconds);
    if (seconds > 0) await context.sleep(seconds * 1000);
    return {};
  }
  if (handler.tcpSocket) throw new Error('tcpSocket is not a supported lifecycle handler');
  return {};
}

/**
 * One httpGet hook as upstream's handler runner sends it (`User-Agent: kube-lifecycle/<major>.<minor>`,
 * any media type accepted, certificates not verified, redirects followed on the same host): an outcome when
 * it was answered, whatever the status, else Go's error text. An HTTPS hook a plaintext server
 * answered is sent again over HTTP; when that is answered the hook succeeded, and the outcome says
 * where it fell back (upstream's `LifecycleHTTPFallback` event and metric).
 */
async function runHttpHook(
  get: NonNullable<LifecycleHandler['httpGet']>,
  container: Container,
  context: HookContext,
): Promise<HookOutcome | { error: string }> {
  const port = hookPort(get.port, container);
  if (typeof port === 'string') return { error: port };
  const host = get.host || context.podIP;
  if (!host) return { error: 'pod has no IP for the httpGet hook' };
  const scheme = get.scheme === 'HTTPS' ? 'https' : 'http';
  const request = {
    host,
    port,
    path: get.path ?? '',
    headers: get.httpHeaders ?? [],
    timeoutMs: context.timeoutSeconds * 1000,
    userAgent: lifecycleUserAgent,
    anyStatusSucceeds: true,
  };
  const outcome = await runHttpProbe({ ...request, scheme });
  if (outcome.result !== 'Failure') return {};
  if (scheme === 'https' && outcome.output.includes('server gave HTTP response to HTTPS client')) {
    const plain = await runHttpProbe({
      ...request,
      scheme: 'http',
      headers: request.headers.filter((h) => h.name.toLowerCase() !== 'authorization'),
    });
    if (plain.result !== 'Failure') return { httpFallback: joinHostPort(host, port) };
  }
  return { error: outcome.output };
}

/** kube-<purpose>/<major>.<minor>, as upstream's hook requests name themselves. */
const lifecycleUserAgent = `kube-lifecycle/${KUBERNETES_VERSION.slice(1).split('.').slice(0, 2).join('.')}`;

/**
 * The hook's port as upstream's probe.ResolveContainerPort finds it (a declared port's name, else
 * a number written as text), or its error: `strconv.Atoi: parsing "web": invalid syntax`,
 * `invalid port number: 0`.
 */
function hookPort(port: number | string, container: Container): number | string {
  let value = typeof port === 'number' ? port : container.ports?.find((p) => p.name === port)?.containerPort;
  if (value === undefined) {
    const parsed = goAtoi(String(port));
    if ('error' in parsed) return parsed.error;
    value = parsed.value;
  }
  if (value < 1 || value > 65535) return `invalid port number: ${value}`;
  return value;
}
