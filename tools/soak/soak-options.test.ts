import { describe, expect, it } from 'vitest';
import { parseSoakOptions, SoakArgumentError } from './soak-options';

const refused = (args: string[]) => {
  try {
    parseSoakOptions(args);
  } catch (error) {
    expect(error).toBeInstanceOf(SoakArgumentError);
    return (error as Error).message;
  }
  throw new Error(`${args.join(' ')} was accepted`);
};

describe("the soak's command line", () => {
  it('defaults to an hour of both agents, probes every 10 s, on the machine’s own file system', () => {
    expect(parseSoakOptions([])).toEqual({
      minutes: 60,
      agents: ['kubelet', 'kube-proxy'],
      journalledExt4: false,
      probePeriodSeconds: 10,
      podChurnPeriodSeconds: 2,
    });
  });

  it('takes every flag', () => {
    expect(
      parseSoakOptions([
        '--minutes',
        '30',
        '--agent',
        'kubelet',
        '--journalled-ext4',
        '--probe-period',
        '30',
        '--pod-churn-period',
        '4',
        '--heap-snapshots',
        '10,30',
        '--cpu-profile-over',
        '40',
      ]),
    ).toEqual({
      minutes: 30,
      agents: ['kubelet'],
      journalledExt4: true,
      probePeriodSeconds: 30,
      podChurnPeriodSeconds: 4,
      heapSnapshots: [10, 30],
      cpuProfileOverMs: 40,
    });
  });

  it('refuses a bad value by its flag and the value', () => {
    expect(refused(['--probe-period', '0'])).toBe('--probe-period 0: a whole number of seconds, at least 1');
    expect(refused(['--probe-period', '2.5'])).toMatch(/^--probe-period 2\.5: /);
    expect(refused(['--pod-churn-period', '0'])).toBe(
      '--pod-churn-period 0: a whole number of seconds, at least 1',
    );
    expect(refused(['--minutes', '2'])).toBe('--minutes 2: a whole number of minutes, at least 3');
    expect(refused(['--agent', 'kubeproxy'])).toBe('--agent kubeproxy: kubelet, kube-proxy or both');
    expect(refused(['--minutes', '20', '--heap-snapshots', '30'])).toMatch(
      /^--heap-snapshots 30: .* 1 and 20/,
    );
    expect(refused(['--cpu-profile-over', '0'])).toBe(
      '--cpu-profile-over 0: a whole number of milliseconds, at least 1',
    );
    expect(refused(['--cpu-profile-over', 'fast'])).toMatch(/^--cpu-profile-over fast: /);
  });

  it('refuses an unknown flag by name, as its own error', () => {
    expect(refused(['--probe-periods', '30'])).toMatch(/--probe-periods/);
  });
});
