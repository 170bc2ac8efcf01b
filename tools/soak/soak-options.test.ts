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
      apiServerRestarts: [20, 40],
      traceGc: false,
      traceOpt: false,
      traceMallocTrim: false,
      journalledExt4: false,
      probePeriodSeconds: 10,
      podChurnPeriodSeconds: 2,
    });
  });

  it('restarts the API server at a third and two thirds of any length', () => {
    expect(parseSoakOptions(['--minutes', '40']).apiServerRestarts).toEqual([13, 27]);
  });

  it('takes every flag', () => {
    expect(
      parseSoakOptions([
        '--minutes',
        '30',
        '--agent',
        'kubelet',
        '--journalled-ext4',
        '--trace-gc',
        '--trace-opt',
        '--trace-malloc-trim',
        '--probe-period',
        '30',
        '--pod-churn-period',
        '4',
        '--heap-snapshots',
        '10,30',
        '--cpu-profile-over',
        '40',
        '--api-server-restarts',
        '5,10,29',
      ]),
    ).toEqual({
      minutes: 30,
      agents: ['kubelet'],
      apiServerRestarts: [5, 10, 29],
      traceGc: true,
      traceOpt: true,
      traceMallocTrim: true,
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
    // A restart in the last minute would have no minute after it to see its relist.
    expect(refused(['--minutes', '20', '--api-server-restarts', '10,20'])).toBe(
      '--api-server-restarts 10,20: one or more whole minutes between 1 and 19, ascending, comma-separated',
    );
    expect(refused(['--api-server-restarts', '10,5'])).toMatch(/^--api-server-restarts 10,5: /);
    expect(refused(['--api-server-restarts', ''])).toMatch(/^--api-server-restarts : /);
    expect(refused(['--cpu-profile-over', '0'])).toBe(
      '--cpu-profile-over 0: a whole number of milliseconds, at least 1',
    );
    expect(refused(['--cpu-profile-over', 'fast'])).toMatch(/^--cpu-profile-over fast: /);
  });

  it('refuses an unknown flag by name, as its own error', () => {
    expect(refused(['--probe-periods', '30'])).toMatch(/--probe-periods/);
  });
});
