import { describe, expect, it } from 'vitest';
import { InvalidProbeError, normalizeProbe, PortNotFoundError, resolveContainerPort } from '../src/index';

describe('normalizeProbe', () => {
  it('applies the core/v1 defaults', () => {
    const p = normalizeProbe({ tcpSocket: { port: 8080 } }, 'Liveness');
    expect(p).toMatchObject({
      initialDelaySeconds: 0,
      periodSeconds: 10,
      timeoutSeconds: 1,
      successThreshold: 1,
      failureThreshold: 3,
      terminationGracePeriodSeconds: undefined,
      handler: { kind: 'tcpSocket', port: 8080, host: '' },
    });
  });

  it('defaults zero-valued numbers like the API server', () => {
    const p = normalizeProbe(
      { exec: { command: ['true'] }, periodSeconds: 0, timeoutSeconds: 0 },
      'Readiness',
    );
    expect(p.periodSeconds).toBe(10);
    expect(p.timeoutSeconds).toBe(1);
  });

  it('defaults httpGet scheme and path and adds the leading slash', () => {
    const p = normalizeProbe({ httpGet: { port: 80, path: 'healthz' } }, 'Readiness');
    expect(p.handler).toEqual({
      kind: 'httpGet',
      scheme: 'http',
      host: '',
      port: 80,
      path: '/healthz',
      headers: [],
    });
    const q = normalizeProbe({ httpGet: { port: 443, scheme: 'HTTPS' } }, 'Readiness');
    expect(q.handler).toMatchObject({ scheme: 'https', path: '/' });
  });

  it('rejects two handlers with a typed error naming the handlers', () => {
    const err = catchErr(() =>
      normalizeProbe({ exec: { command: ['true'] }, httpGet: { port: 80 } }, 'Liveness'),
    );
    expect(err).toBeInstanceOf(InvalidProbeError);
    expect(err).toMatchObject({ code: 'INVALID_PROBE', field: 'livenessProbe', value: ['exec', 'httpGet'] });
    expect(err.message).toContain('more than 1 handler');
  });

  it('rejects a probe without a handler', () => {
    expect(() => normalizeProbe({ periodSeconds: 5 }, 'Startup')).toThrow(InvalidProbeError);
  });

  it('rejects a named port the container does not declare', () => {
    const err = catchErr(() =>
      normalizeProbe({ httpGet: { port: 'metrics' } }, 'Readiness', [{ name: 'http', containerPort: 8080 }]),
    );
    expect(err).toBeInstanceOf(PortNotFoundError);
    expect(err).toMatchObject({
      code: 'PORT_NOT_FOUND',
      field: 'readinessProbe.httpGet.port',
      value: 'metrics',
    });
    expect(err.message).toContain('http');
  });

  it('resolves named ports and numeric strings', () => {
    const ports = [
      { name: 'http', containerPort: 8080 },
      { name: 'grpc', containerPort: 9090 },
    ];
    expect(normalizeProbe({ tcpSocket: { port: 'grpc' } }, 'Liveness', ports).handler).toMatchObject({
      port: 9090,
    });
    expect(resolveContainerPort('f', '8081', ports)).toBe(8081);
  });

  it('rejects out-of-range ports', () => {
    expect(() => normalizeProbe({ tcpSocket: { port: 70000 } }, 'Liveness')).toThrow(InvalidProbeError);
    expect(() => normalizeProbe({ grpc: { port: 0 } }, 'Liveness')).toThrow(InvalidProbeError);
  });

  it('requires successThreshold 1 for liveness and startup but not readiness', () => {
    expect(() => normalizeProbe({ tcpSocket: { port: 1 }, successThreshold: 2 }, 'Liveness')).toThrow(
      /successThreshold/,
    );
    expect(() => normalizeProbe({ tcpSocket: { port: 1 }, successThreshold: 2 }, 'Startup')).toThrow(
      InvalidProbeError,
    );
    expect(
      normalizeProbe({ tcpSocket: { port: 1 }, successThreshold: 2 }, 'Readiness').successThreshold,
    ).toBe(2);
  });

  it('allows terminationGracePeriodSeconds only on liveness/startup and only positive', () => {
    expect(
      normalizeProbe({ tcpSocket: { port: 1 }, terminationGracePeriodSeconds: 5 }, 'Liveness')
        .terminationGracePeriodSeconds,
    ).toBe(5);
    expect(() =>
      normalizeProbe({ tcpSocket: { port: 1 }, terminationGracePeriodSeconds: 5 }, 'Readiness'),
    ).toThrow(/readinessProbes/);
    expect(() =>
      normalizeProbe({ tcpSocket: { port: 1 }, terminationGracePeriodSeconds: 0 }, 'Startup'),
    ).toThrow(InvalidProbeError);
  });

  it('rejects negative numbers, empty exec commands, bad schemes and header names', () => {
    expect(() => normalizeProbe({ tcpSocket: { port: 1 }, initialDelaySeconds: -1 }, 'Liveness')).toThrow(
      /initialDelaySeconds/,
    );
    expect(() => normalizeProbe({ tcpSocket: { port: 1 }, failureThreshold: -3 }, 'Liveness')).toThrow(
      /failureThreshold/,
    );
    expect(() => normalizeProbe({ exec: { command: [] } }, 'Liveness')).toThrow(/exec.command/);
    expect(() => normalizeProbe({ httpGet: { port: 1, scheme: 'FTP' } }, 'Liveness')).toThrow(/scheme/);
    expect(() =>
      normalizeProbe({ httpGet: { port: 1, httpHeaders: [{ name: 'bad header', value: 'x' }] } }, 'Liveness'),
    ).toThrow(/httpHeaders\[0\]/);
  });
});

function catchErr(fn: () => unknown): Error & Record<string, unknown> {
  try {
    fn();
  } catch (err) {
    return err as Error & Record<string, unknown>;
  }
  throw new Error('expected an error');
}
