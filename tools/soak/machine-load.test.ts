import { describe, expect, it } from 'vitest';
import { MachineLoad, parseLoadAverage, saturatedFromStart, saturatedMinutes } from './machine-load';

const pressure = (someUs: number) =>
  `some avg10=68.09 avg60=52.03 avg300=70.16 total=${someUs}\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n`;

describe("the machine's load in a soak", () => {
  it('reads the 1-minute load average', () => {
    expect(parseLoadAverage('9.63 51.39 50.17 6/126 14418\n')).toBe(9.63);
    expect(() => parseLoadAverage('')).toThrow(/\/proc\/loadavg/);
  });

  it("turns the stall total's growth into a share of the minute, capped at 100%", () => {
    const files: Record<string, string> = {
      '/proc/loadavg': '3.5 1 1 1/1 1',
      '/proc/pressure/cpu': pressure(0),
    };
    let now = 0;
    const load = new MachineLoad(
      (p) => files[p],
      () => now,
    );
    now = 60_000;
    files['/proc/pressure/cpu'] = pressure(15_000_000);
    expect(load.take()).toEqual({ loadAverage1m: 3.5, cpuPressurePct: 25 });
    now = 120_000;
    files['/proc/pressure/cpu'] = pressure(15_000_000 + 61_000_000);
    expect(load.take().cpuPressurePct).toBe(100);
  });

  it('leaves the pressure out where the kernel has no PSI, and names the saturated minutes', () => {
    const load = new MachineLoad(
      (p) => (p === '/proc/loadavg' ? '0.5 0 0 1/1 1' : undefined),
      () => 0,
    );
    expect(load.take()).toEqual({ loadAverage1m: 0.5 });
    expect(
      saturatedMinutes([
        { minute: 1, machine: { loadAverage1m: 90, cpuPressurePct: 98 } },
        { minute: 2, machine: { loadAverage1m: 2, cpuPressurePct: 12 } },
        { minute: 3 },
      ]),
    ).toEqual([1]);
  });

  it('tells a run saturated in each of its first minutes from one with a quiet minute among them', () => {
    const minute = (n: number, cpuPressurePct: number) => ({
      minute: n,
      machine: { loadAverage1m: 60, cpuPressurePct },
    });
    const busy = [1, 2, 3, 4, 5].map((n) => minute(n, 94));
    expect(saturatedFromStart(busy, 5)).toBe(true);
    expect(saturatedFromStart(busy.slice(0, 4), 5)).toBe(false);
    expect(saturatedFromStart([...busy.slice(0, 2), minute(3, 31), ...busy.slice(3)], 5)).toBe(false);
    expect(saturatedFromStart([...busy.slice(0, 4), { minute: 5 }], 5)).toBe(false);
  });
});
