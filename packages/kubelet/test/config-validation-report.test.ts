import { describe, expect, it } from 'vitest';
import { parseKubeletConfiguration } from '../src/config/kubelet-configuration';
import { decodeKubeletConfigurationText } from '../src/config/load-config-file';
import { InvalidConfigError } from '../src/errors';

/** Every problem's field, in the order reported (throws if the input is valid). */
function problems(input: Record<string, unknown>): { field: string; message: string }[] {
  try {
    parseKubeletConfiguration(input);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidConfigError);
    const e = error as InvalidConfigError;
    return (e.causes.length > 0 ? e.causes : [e]).map((cause) => ({
      field: cause.field,
      message: cause.message,
    }));
  }
  throw new Error('expected the configuration to be refused');
}

describe('KubeletConfiguration validation reports every problem of a file at once', () => {
  it('type errors and the rules across fields together, each once', () => {
    const found = problems({ maxPods: -5, imageGCHighThresholdPercent: 60, imageGCLowThresholdPercent: 70 });
    expect(found.map((p) => p.field)).toEqual(['maxPods', 'imageGCLowThresholdPercent']);
    expect(found[1]!.message).toBe(
      'imageGCLowThresholdPercent: must be less than imageGCHighThresholdPercent (60) (got 70)',
    );
  });

  it('does not blame a rule across fields on a field already reported', () => {
    // imageGCHighThresholdPercent 120 is out of range: the low<high rule is not reported on top.
    const found = problems({ imageGCHighThresholdPercent: 120, imageGCLowThresholdPercent: 90 });
    expect(found.map((p) => p.field)).toEqual(['imageGCHighThresholdPercent']);
  });

  it('a bad nodeStatusUpdateFrequency is blamed alone, not the report frequency it would default', () => {
    expect(problems({ nodeStatusUpdateFrequency: '-10s' }).map((p) => p.field)).toEqual([
      'nodeStatusUpdateFrequency',
    ]);
    expect(problems({ nodeStatusUpdateFrequency: 'banana' }).map((p) => p.field)).toEqual([
      'nodeStatusUpdateFrequency',
    ]);
    // A longer update frequency than the report frequency is not refused (upstream has no such rule).
    const { config } = parseKubeletConfiguration({
      nodeStatusUpdateFrequency: '10m',
      nodeStatusReportFrequency: '1m',
    });
    expect(config.nodeStatusReportFrequency).toBe('1m');
  });

  it("refuses what upstream's ValidateKubeletConfiguration refuses, with its reasons", () => {
    expect(problems({ cgroupsPerQOS: false })).toEqual([
      {
        field: 'enforceNodeAllocatable',
        message:
          'enforceNodeAllocatable: is not supported unless cgroupsPerQOS (--cgroups-per-qos) is set to true (set enforceNodeAllocatable to [] without the QoS cgroups) (got ["pods"])',
      },
    ]);
    expect(() =>
      parseKubeletConfiguration({ cgroupsPerQOS: false, enforceNodeAllocatable: [] }),
    ).not.toThrow();
    expect(problems({ enforceNodeAllocatable: ['pods', 'system-reserved'] }).map((p) => p.field)).toEqual([
      'systemReservedCgroup',
    ]);
    expect(problems({ enforceNodeAllocatable: ['none', 'pods'] }).map((p) => p.field)).toEqual([
      'enforceNodeAllocatable',
    ]);
    expect(problems({ systemCgroups: '/system' }).map((p) => p.field)).toEqual(['systemCgroups']);
    expect(
      problems({ shutdownGracePeriod: '10s', shutdownGracePeriodCriticalPods: '20s' }).map((p) => p.field),
    ).toEqual(['shutdownGracePeriodCriticalPods']);
    expect(problems({ podLogsDir: 'logs' })[0]!.message).toContain('must be an absolute path');
    expect(problems({ podLogsDir: '/var/log/../log/pods' })[0]!.message).toContain('must be normalized');
  });
});

describe('YAML errors', () => {
  it('name the file, line and column, and never echo the file back', () => {
    const text =
      'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nmaxPods: [1\nsecretish: hunter2\n';
    let error: unknown;
    try {
      decodeKubeletConfigurationText(text, '/etc', '/etc/kubelet/config.yaml');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(
      /^\/etc\/kubelet\/config\.yaml: not valid YAML or JSON at line \d+, column \d+: /,
    );
    expect(message).not.toContain('hunter2');
    expect(message).not.toContain('\n');
  });
});
