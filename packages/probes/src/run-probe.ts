import { cancelledOutcome } from './cancellation';
import type { ExecProbeExecutor } from './exec-probe';
import { runExecProbe } from './exec-probe';
import { runGrpcProbe } from './grpc-probe';
import { runHttpProbe } from './http-probe';
import type { NormalizedProbe } from './normalize-probe';
import type { ProbeRunOutcome } from './probe-types';
import { runTcpProbe } from './tcp-probe';

/** Where a probe runs: the pod's IP for network probes, the executor for exec probes. */
export interface ProbeTarget {
  podIP: string;
  exec?: ExecProbeExecutor;
  /** The container instance probed (passed to the exec executor, so one executor serves all). */
  containerId?: string;
  /** How long past timeoutSeconds to wait for the exec executor (see runExecProbe; default 50 ms). */
  execGraceMs?: number;
  userAgent?: string;
}

/**
 * Runs one probe once. Never rejects: every problem is a Failure or Unknown outcome. Aborting
 * `signal` (the container stopped) ends the run at once with Unknown "probe cancelled".
 */
export async function runProbe(
  probe: NormalizedProbe,
  target: ProbeTarget,
  signal?: AbortSignal,
): Promise<ProbeRunOutcome> {
  if (signal?.aborted) return cancelledOutcome();
  const timeoutMs = probe.timeoutSeconds * 1000;
  const h = probe.handler;
  switch (h.kind) {
    case 'exec':
      if (!target.exec) return { result: 'Unknown', output: 'no exec executor configured for exec probes' };
      return runExecProbe(target.exec, h.command, timeoutMs, signal, target.containerId, target.execGraceMs);
    case 'httpGet':
      return runHttpProbe({
        scheme: h.scheme,
        host: h.host || target.podIP,
        port: h.port,
        path: h.path,
        headers: h.headers,
        timeoutMs,
        userAgent: target.userAgent,
        signal,
      });
    case 'tcpSocket':
      return runTcpProbe(h.host || target.podIP, h.port, timeoutMs, signal);
    case 'grpc':
      return runGrpcProbe({
        host: target.podIP,
        port: h.port,
        service: h.service,
        timeoutMs,
        userAgent: target.userAgent,
        signal,
      });
  }
}
