import { InvalidProbeError } from './errors';
import {
  DEFAULT_FAILURE_THRESHOLD,
  DEFAULT_INITIAL_DELAY_SECONDS,
  DEFAULT_PERIOD_SECONDS,
  DEFAULT_SUCCESS_THRESHOLD,
  DEFAULT_TIMEOUT_SECONDS,
} from './probe-defaults';
import type { ContainerPortSpec, HTTPHeaderSpec, ProbeSpec, ProbeType } from './probe-types';
import { resolveContainerPort } from './resolve-port';

/** A probe's one action, resolved: exec, httpGet, tcpSocket or grpc. */
export type ProbeHandler =
  | { kind: 'exec'; command: string[] }
  | {
      kind: 'httpGet';
      scheme: 'http' | 'https';
      /** Empty means "the pod IP". */
      host: string;
      port: number;
      path: string;
      headers: HTTPHeaderSpec[];
    }
  | { kind: 'tcpSocket'; host: string; port: number }
  | { kind: 'grpc'; port: number; service: string };

/** A probe with defaults applied, named ports resolved and every rule checked. */
export interface NormalizedProbe {
  handler: ProbeHandler;
  initialDelaySeconds: number;
  periodSeconds: number;
  timeoutSeconds: number;
  successThreshold: number;
  failureThreshold: number;
  /** Probe-level override of the pod's grace period (liveness/startup only). */
  terminationGracePeriodSeconds: number | undefined;
}

/**
 * Applies the core/v1 defaults and the API server's validation to a probe, and resolves its port
 * against the container's ports. `field` prefixes error paths (e.g. `livenessProbe`).
 */
export function normalizeProbe(
  spec: ProbeSpec,
  probeType: ProbeType,
  ports: readonly ContainerPortSpec[] = [],
  field = probeFieldName(probeType),
): NormalizedProbe {
  const handlers = (['exec', 'httpGet', 'tcpSocket', 'grpc'] as const).filter((k) => spec[k] != null);
  if (handlers.length === 0) throw new InvalidProbeError(field, handlers, 'must specify a handler type');
  if (handlers.length > 1) {
    throw new InvalidProbeError(field, handlers, 'may not specify more than 1 handler type');
  }
  const initialDelaySeconds = intField(field, spec, 'initialDelaySeconds', DEFAULT_INITIAL_DELAY_SECONDS, 0);
  const periodSeconds = intField(field, spec, 'periodSeconds', DEFAULT_PERIOD_SECONDS, 1);
  const timeoutSeconds = intField(field, spec, 'timeoutSeconds', DEFAULT_TIMEOUT_SECONDS, 1);
  const successThreshold = intField(field, spec, 'successThreshold', DEFAULT_SUCCESS_THRESHOLD, 1);
  const failureThreshold = intField(field, spec, 'failureThreshold', DEFAULT_FAILURE_THRESHOLD, 1);
  if (probeType !== 'Readiness' && successThreshold !== 1) {
    throw new InvalidProbeError(`${field}.successThreshold`, successThreshold, 'must be 1');
  }
  const grace = spec.terminationGracePeriodSeconds;
  if (grace != null) {
    if (probeType === 'Readiness') {
      throw new InvalidProbeError(
        `${field}.terminationGracePeriodSeconds`,
        grace,
        'must not be set for readinessProbes',
      );
    }
    if (!Number.isInteger(grace) || grace < 1) {
      throw new InvalidProbeError(`${field}.terminationGracePeriodSeconds`, grace, 'must be greater than 0');
    }
  }
  return {
    handler: normalizeHandler(spec, field, ports),
    initialDelaySeconds,
    periodSeconds,
    timeoutSeconds,
    successThreshold,
    failureThreshold,
    terminationGracePeriodSeconds: grace ?? undefined,
  };
}

function normalizeHandler(spec: ProbeSpec, field: string, ports: readonly ContainerPortSpec[]): ProbeHandler {
  if (spec.exec) {
    const command = spec.exec.command ?? [];
    if (command.length === 0) throw new InvalidProbeError(`${field}.exec.command`, command, 'Required value');
    return { kind: 'exec', command: [...command] };
  }
  if (spec.httpGet) {
    const g = spec.httpGet;
    const scheme = (g.scheme ?? 'HTTP').toUpperCase();
    if (scheme !== 'HTTP' && scheme !== 'HTTPS') {
      throw new InvalidProbeError(`${field}.httpGet.scheme`, g.scheme, 'supported values: "HTTP", "HTTPS"');
    }
    const headers = g.httpHeaders ?? [];
    for (const [i, h] of headers.entries()) {
      if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(h.name ?? '')) {
        throw new InvalidProbeError(
          `${field}.httpGet.httpHeaders[${i}].name`,
          h.name,
          'not a valid header name',
        );
      }
    }
    const path = g.path ?? '/';
    return {
      kind: 'httpGet',
      scheme: scheme === 'HTTPS' ? 'https' : 'http',
      host: g.host ?? '',
      port: resolveContainerPort(`${field}.httpGet.port`, g.port, ports),
      path: path.startsWith('/') ? path : `/${path}`,
      headers: headers.map((h) => ({ name: h.name, value: h.value ?? '' })),
    };
  }
  if (spec.tcpSocket) {
    return {
      kind: 'tcpSocket',
      host: spec.tcpSocket.host ?? '',
      port: resolveContainerPort(`${field}.tcpSocket.port`, spec.tcpSocket.port, ports),
    };
  }
  const grpc = spec.grpc!;
  if (typeof grpc.port !== 'number') {
    throw new InvalidProbeError(`${field}.grpc.port`, grpc.port, 'must be a port number');
  }
  return {
    kind: 'grpc',
    port: resolveContainerPort(`${field}.grpc.port`, grpc.port),
    service: grpc.service ?? '',
  };
}

type NumericField =
  | 'initialDelaySeconds'
  | 'periodSeconds'
  | 'timeoutSeconds'
  | 'successThreshold'
  | 'failureThreshold';

function intField(field: string, spec: ProbeSpec, name: NumericField, def: number, min: number): number {
  const raw = spec[name];
  // The API server defaults zero values too (SetDefaults_Probe), except initialDelaySeconds.
  const value = raw == null || (raw === 0 && min > 0) ? def : raw;
  if (!Number.isInteger(value) || value < min) {
    throw new InvalidProbeError(`${field}.${name}`, raw, `must be an integer >= ${min}`);
  }
  return value;
}

export function probeFieldName(probeType: ProbeType): string {
  return probeType === 'Liveness'
    ? 'livenessProbe'
    : probeType === 'Readiness'
      ? 'readinessProbe'
      : 'startupProbe';
}
