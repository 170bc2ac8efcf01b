import { describe, expect, it } from 'vitest';
import { cpuListProblem } from '../src/config/cpu-list';
import { parseKubeletConfiguration } from '../src/config/kubelet-configuration';
import { configProblems as problems } from './helpers/config-problems';

// Upstream v1.36 ValidateKubeletConfiguration's checks of single values that our schema's types
// alone do not make: the reserved CPU list, the hidden-metrics release, reserved memory.

describe('reservedSystemCPUs', () => {
  it('parses as k8s.io/utils cpuset.Parse does', () => {
    expect(cpuListProblem('')).toBeUndefined();
    expect(cpuListProblem('0-3,8,10-10')).toBeUndefined();
    expect(cpuListProblem('+1')).toBeUndefined();
    expect(cpuListProblem('abc')).toBe('strconv.Atoi: parsing "abc": invalid syntax');
    expect(cpuListProblem('0, 1')).toBe('strconv.Atoi: parsing " 1": invalid syntax');
    expect(cpuListProblem('0,')).toBe('strconv.Atoi: parsing "": invalid syntax');
    expect(cpuListProblem('3-1')).toBe('invalid range "3-1" (3 > 1)');
    expect(cpuListProblem('0-2-4')).toBe('strconv.Atoi: parsing "2-4": invalid syntax');
    expect(cpuListProblem('99999999999999999999')).toBe(
      'strconv.Atoi: parsing "99999999999999999999": value out of range',
    );
  });

  it('refuses a list that does not parse, in upstream words', () => {
    expect(problems({ reservedSystemCPUs: '0-1' })).toEqual([]);
    expect(problems({ reservedSystemCPUs: '1-0' })).toEqual([
      'reservedSystemCPUs: unable to parse reservedSystemCPUs (--reserved-cpus) 1-0, error: invalid range "1-0" (1 > 0)',
    ]);
  });
});

describe('showHiddenMetricsForVersion', () => {
  it("takes only the previous minor release (v1.36: '1.35')", () => {
    expect(problems({ showHiddenMetricsForVersion: '1.35' })).toEqual([]);
    expect(problems({ showHiddenMetricsForVersion: '1.34' })).toEqual([
      "showHiddenMetricsForVersion: must be omitted or have the value '1.35'; only the previous minor version is allowed",
    ]);
  });
});

describe('reservedMemory', () => {
  it('takes memory and hugepages limits per NUMA node', () => {
    expect(
      problems({
        reservedMemory: [
          { numaNode: 0, limits: { memory: '1Gi', 'hugepages-2Mi': '64Mi' } },
          { numaNode: 1, limits: { memory: '1Gi' } },
        ],
      }),
    ).toEqual([]);
  });

  it('refuses another resource, a zero limit and a resource named twice for a node', () => {
    expect(
      problems({
        reservedMemory: [
          { numaNode: 0, limits: { cpu: '1', memory: '0' } },
          { numaNode: 0, limits: { memory: '1Gi' } },
        ],
      }),
    ).toEqual([
      'reservedMemory: the limit type "cpu" for NUMA node 0 is not supported, only [memory hugepages-<HugePageSize>] is accepted',
      'reservedMemory: reserved memory may not be zero for NUMA node 0 and resource "memory"',
      'reservedMemory: the reserved memory has a duplicate value for NUMA node 0 and resource "memory"',
    ]);
  });
});

describe('tracing', () => {
  it('takes a gRPC name (host:port is read as dns://) and a rate up to one million', () => {
    expect(problems({ tracing: { endpoint: 'localhost:4317', samplingRatePerMillion: 1_000_000 } })).toEqual(
      [],
    );
    expect(problems({ tracing: { endpoint: 'unix:///run/otel.sock' } })).toEqual([]);
  });

  it("refuses another scheme and a rate over one million, in component-base's words", () => {
    expect(
      problems({ tracing: { endpoint: 'http://collector:4318', samplingRatePerMillion: 1_000_001 } }),
    ).toEqual([
      'tracing.endpoint: unsupported scheme: http.  Options are none, dns, unix, or unix-abstract.  See https://github.com/grpc/grpc/blob/master/doc/naming.md',
      'tracing.samplingRatePerMillion: sampling rate per million must be less than or equal to one million',
    ]);
  });
});

describe('registerWithTaints', () => {
  it('refuses a timeAdded, which the API server stamps (upstream: "taint.TimeAdded is not nil")', () => {
    expect(
      problems({
        registerWithTaints: [{ key: 'k', effect: 'NoSchedule', timeAdded: '2026-11-26T00:00:00Z' }],
      }),
    ).toEqual(['registerWithTaints[0].timeAdded: taint.TimeAdded is not nil']);
    // Without decoding's null dropping: the schema itself reads null as unset and leaves it out.
    const { config } = parseKubeletConfiguration(
      { registerWithTaints: [{ key: 'k', effect: 'NoSchedule', timeAdded: null }] },
      { zeroValueDefaults: false },
    );
    expect(config.registerWithTaints).toEqual([{ key: 'k', effect: 'NoSchedule' }]);
  });

  it("refuses what upstream's CheckTaintValidation refuses, printing the taint as Go's %v does", () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ key: 'bad key', value: 'v', effect: 'NoSchedule' }, 'invalid taint: {bad key v NoSchedule <nil>}'],
      [{ key: 'example.com/a/b', effect: 'NoExecute' }, 'invalid taint: {example.com/a/b  NoExecute <nil>}'],
      [{ key: '', effect: 'NoSchedule' }, 'invalid taint: {  NoSchedule <nil>}'],
      [
        { key: 'k', value: 'x'.repeat(64), effect: 'NoSchedule' },
        `invalid taint: {k ${'x'.repeat(64)} NoSchedule <nil>}`,
      ],
      [{ key: 'k', value: '-v', effect: 'NoSchedule' }, 'invalid taint: {k -v NoSchedule <nil>}'],
      [{ key: 'k', effect: 'Sometimes' }, 'invalid taint: {k  Sometimes <nil>}'],
    ];
    for (const [taint, reason] of cases)
      expect(problems({ registerWithTaints: [{ key: 'ok', effect: 'NoSchedule' }, taint] })).toEqual([
        `registerWithTaints[1]: ${reason}`,
      ]);
  });

  it('accepts prefixed keys, empty values and an empty effect, as upstream validation does', () => {
    const taints = [
      { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' },
      { key: 'dedicated', value: 'gpu_a.1', effect: 'PreferNoSchedule' },
      { key: 'k' },
    ];
    expect(problems({ registerWithTaints: taints })).toEqual([]);
    expect(parseKubeletConfiguration({ registerWithTaints: taints }).config.registerWithTaints[2]).toEqual({
      key: 'k',
      effect: '',
    });
  });
});
