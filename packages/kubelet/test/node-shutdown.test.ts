import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '@nodeagent/primitives';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { kubeletAdmitHandlers } from '../src/admission/kubelet-admit-handlers';
import type { Pod } from '../src/api/pod-types';
import { killPodsByPriority } from '../src/nodeshutdown/kill-pods-by-priority';
import { kubeletShutdownKill, kubeletWaitForUnmount } from '../src/nodeshutdown/kubelet-shutdown-kill';
import { systemBusPathFromEnv } from '../src/nodeshutdown/logind-dbus';
import type { InhibitLock, LogindInhibitor, ShutdownWatch } from '../src/nodeshutdown/logind-inhibitor';
import {
  NodeShutdownManager,
  type NodeShutdownManagerOptions,
} from '../src/nodeshutdown/node-shutdown-manager';
import {
  groupByPriority,
  periodRequestedMs,
  shutdownGracePeriods,
} from '../src/nodeshutdown/shutdown-grace-periods';
import { registerShutdownMetrics } from '../src/nodeshutdown/shutdown-metrics';
import { ShutdownStateFile } from '../src/nodeshutdown/shutdown-state-file';
import { waitFor } from './helpers/wait-for';

function pod(name: string, priority?: number, terminationGracePeriodSeconds?: number): Pod {
  return {
    metadata: { name, namespace: 'default', uid: name },
    spec: { containers: [], priority, terminationGracePeriodSeconds },
  } as unknown as Pod;
}

const quiet = { info: () => {}, warn: () => {}, error: () => {} };

/** Lets pending promise callbacks (not timers) run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

/** A logind whose every call is recorded; the delay and failures are set by the test. */
class FakeLogind implements LogindInhibitor {
  calls: string[] = [];
  locksHeld = 0;
  delayMs: number;
  delayAfterReloadMs: number;
  failMonitor = false;
  emit: ((shuttingDown: boolean) => void) | undefined;
  end: ((error?: unknown) => void) | undefined;
  closed = false;

  constructor(delayMs: number, delayAfterReloadMs = delayMs) {
    this.delayMs = delayMs;
    this.delayAfterReloadMs = delayAfterReloadMs;
  }
  async currentInhibitDelayMs(): Promise<number> {
    this.calls.push('delay');
    return this.delayMs;
  }
  async overrideInhibitDelay(delayMs: number): Promise<void> {
    this.calls.push(`override ${delayMs}`);
  }
  async reloadLogindConf(): Promise<void> {
    this.calls.push('reload');
    this.delayMs = this.delayAfterReloadMs;
  }
  async inhibitShutdown(): Promise<InhibitLock> {
    this.calls.push('inhibit');
    this.locksHeld++;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.locksHeld--;
        this.calls.push('release');
      },
    };
  }
  async monitorShutdown(onEvent: (s: boolean) => void, onEnd: (e?: unknown) => void): Promise<ShutdownWatch> {
    this.calls.push('monitor');
    if (this.failMonitor) throw new Error('AddMatch refused');
    this.emit = onEvent;
    this.end = onEnd;
    return { stop: () => this.calls.push('unwatch') };
  }
  close(): void {
    this.closed = true;
  }
}

describe('shutdownGracePeriods (upstream migrateConfig and sort)', () => {
  it('turns shutdownGracePeriod and its critical share into two groups', () => {
    expect(
      shutdownGracePeriods({ shutdownGracePeriod: '30s', shutdownGracePeriodCriticalPods: '10s' }),
    ).toEqual([
      { priority: 0, shutdownGracePeriodSeconds: 20 },
      { priority: 2_000_000_000, shutdownGracePeriodSeconds: 10 },
    ]);
  });

  it('is empty (feature off) for a zero period or a critical share above it', () => {
    expect(
      shutdownGracePeriods({ shutdownGracePeriod: '0s', shutdownGracePeriodCriticalPods: '0s' }),
    ).toEqual([]);
    expect(
      shutdownGracePeriods({ shutdownGracePeriod: '10s', shutdownGracePeriodCriticalPods: '20s' }),
    ).toEqual([]);
  });

  it('prefers the priority list, sorted low to high, and sums it for logind', () => {
    const periods = shutdownGracePeriods({
      shutdownGracePeriod: '0s',
      shutdownGracePeriodCriticalPods: '0s',
      shutdownGracePeriodByPodPriority: [
        { priority: 100000, shutdownGracePeriodSeconds: 20 },
        { priority: 0, shutdownGracePeriodSeconds: 60 },
        { priority: 10000, shutdownGracePeriodSeconds: 30 },
      ],
    });
    expect(periods.map((p) => p.priority)).toEqual([0, 10000, 100000]);
    expect(periodRequestedMs(periods)).toBe(110_000);
  });

  it('groups pods as upstream: the group at or below, the lowest for pods under it', () => {
    const periods = [
      { priority: 1, shutdownGracePeriodSeconds: 10 },
      { priority: 2, shutdownGracePeriodSeconds: 20 },
      { priority: 2, shutdownGracePeriodSeconds: 5 },
      { priority: 5, shutdownGracePeriodSeconds: 30 },
    ];
    const groups = groupByPriority(periods, [
      pod('none'),
      pod('one', 1),
      pod('two', 2),
      pod('four', 4),
      pod('big', 9),
    ]);
    // As upstream's sort.Search: an exact match takes the first of equal groups, a pod between
    // two groups the one just below the upper (here the second group of priority 2).
    expect(groups.map((g) => g.pods.map((p) => p.metadata.name))).toEqual([
      ['none', 'one'],
      ['two'],
      ['four'],
      ['big'],
    ]);
  });
});

describe('killPodsByPriority', () => {
  it('kills group by group with the shorter grace period, moving on when a group is done or its time ran out', async () => {
    const clock = new FakeClock();
    const log: string[] = [];
    const pending = new Map<string, () => void>();
    const kill = (p: Pod, grace: number) => {
      log.push(`${p.metadata.name} ${grace}`);
      return new Promise<void>((resolve) => pending.set(p.metadata.name ?? '', resolve));
    };
    const groups = groupByPriority(
      [
        { priority: 0, shutdownGracePeriodSeconds: 20 },
        { priority: 1000, shutdownGracePeriodSeconds: 0 },
        { priority: 2_000_000_000, shutdownGracePeriodSeconds: 10 },
      ],
      [pod('web', 0, 5), pod('batch', 10, 60), pod('dns', 2_000_000_000)],
    );
    const done = killPodsByPriority(groups, kill, clock, quiet);
    await settle();
    expect(log).toEqual(['web 5', 'batch 20']);
    pending.get('web')?.();
    clock.advance(19_999);
    await settle();
    expect(log).toHaveLength(2);
    clock.advance(1);
    await settle();
    // The empty group at 1000 is skipped; critical pods go last.
    expect(log).toEqual(['web 5', 'batch 20', 'dns 10']);
    pending.get('dns')?.();
    await done;
  });
});

describe('killPodsByPriority: volumes', () => {
  it("waits for a group's volumes before the next group, and gives up on them when the group's time runs out", async () => {
    const clock = new FakeClock();
    const log: string[] = [];
    const unmounted = new Map<string, () => void>();
    const signals: AbortSignal[] = [];
    const groups = groupByPriority(
      [
        { priority: 0, shutdownGracePeriodSeconds: 20 },
        { priority: 2_000_000_000, shutdownGracePeriodSeconds: 10 },
      ],
      [pod('web'), pod('csi', 2_000_000_000)],
    );
    const errors: string[] = [];
    const done = killPodsByPriority(
      groups,
      async (p) => {
        log.push(`kill ${p.metadata.name}`);
      },
      clock,
      { ...quiet, error: (_fields, msg) => errors.push(msg ?? '') },
      (pods, signal) => {
        signals.push(signal);
        log.push(`wait ${pods.map((p) => p.metadata.name).join()}`);
        return new Promise<void>((resolve, reject) => {
          unmounted.set(pods[0]?.metadata.name ?? '', resolve);
          signal.addEventListener('abort', () => reject(new Error('context deadline exceeded')));
        });
      },
    );
    await settle();
    expect(log).toEqual(['kill web', 'wait web']);
    unmounted.get('web')?.();
    await settle();
    // The critical group starts once the first group's volumes are gone, before its 20 s.
    expect(log).toEqual(['kill web', 'wait web', 'kill csi', 'wait csi']);
    expect(signals[0]?.aborted).toBe(true);
    clock.advance(10_000);
    await done;
    expect(signals[1]?.aborted).toBe(true);
    // Logged once the aborted wait gives up, after the next group (none here) was free to start.
    await settle();
    expect(errors).toEqual([
      'Failed while waiting for all the volumes belonging to Pods in this group to unmount',
    ]);
  });

  it('kubeletWaitForUnmount resolves once every pod is cleaned up, and rejects when aborted', async () => {
    const clock = new FakeClock();
    const clean = new Set<string>(['a']);
    const wait = kubeletWaitForUnmount({ isCleanedUp: (uid) => clean.has(uid) }, clock);
    let resolved = false;
    const both = wait([pod('a'), pod('b')], new AbortController().signal).then(() => {
      resolved = true;
    });
    clock.advance(200);
    await settle();
    expect(resolved).toBe(false);
    clean.add('b');
    clock.advance(200);
    await both;
    const stop = new AbortController();
    const never = wait([pod('c')], stop.signal).catch((e: Error) => e.message);
    stop.abort();
    clock.advance(200);
    expect(await never).toBe('context deadline exceeded');
  });
});

describe('NodeShutdownManager', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), `node-shutdown-${process.pid}-`));
  });
  afterEach(async () => {
    // A handling a test abandoned with stop() may still be closing a file here (ENOTEMPTY once, under load).
    await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
  });

  function setup(logind: FakeLogind, extra: Partial<NodeShutdownManagerOptions> = {}) {
    const clock = new FakeClock(Date.UTC(2026, 10, 27, 6, 0, 0));
    const killed: string[] = [];
    const events: string[] = [];
    let syncs = 0;
    const registry = new Registry();
    const metrics = registerShutdownMetrics(registry);
    const stateFile = new ShutdownStateFile(join(dir, 'graceful_node_shutdown_state'));
    const manager = new NodeShutdownManager({
      periods: shutdownGracePeriods({ shutdownGracePeriod: '30s', shutdownGracePeriodCriticalPods: '10s' }),
      connect: async () => logind,
      activePods: () => [pod('web'), pod('dns', 2_000_000_000)],
      killPod: async (p, grace) => {
        killed.push(`${p.metadata.name} ${grace}`);
        clock.advance(1500);
      },
      syncNodeStatus: () => syncs++,
      recordNodeEvent: (type, reason, message) => events.push(`${type} ${reason} ${message}`),
      stateFile,
      metrics,
      clock,
      logger: quiet,
      ...extra,
    });
    return { manager, clock, killed, events, registry, stateFile, syncs: () => syncs };
  }

  it('takes the lock when logind already allows the delay, and admits pods', async () => {
    const logind = new FakeLogind(30_000);
    const { manager } = setup(logind);
    await manager.start();
    expect(logind.calls).toEqual(['delay', 'inhibit', 'monitor']);
    expect(logind.locksHeld).toBe(1);
    expect(manager.admit()).toEqual({ admit: true });
    expect(manager.shutdownStatus()).toBeUndefined();
    await manager.stop();
    expect(logind.locksHeld).toBe(0);
    expect(logind.closed).toBe(true);
  });

  it('raises InhibitDelayMaxSec, reloads logind and reads it again before locking', async () => {
    const logind = new FakeLogind(5_000, 30_000);
    const { manager } = setup(logind);
    await manager.start();
    expect(logind.calls).toEqual(['delay', 'override 30000', 'reload', 'delay', 'inhibit', 'monitor']);
    await manager.stop();
  });

  it('fails to start with upstream message after five reads when logind keeps the old delay', async () => {
    const logind = new FakeLogind(5_000);
    const { manager, clock } = setup(logind);
    const started = manager.start();
    const outcome = started.then(
      () => 'started',
      (e: Error) => e.message,
    );
    for (const wait of [100, 200, 400, 800]) {
      await settle();
      clock.advance(wait);
    }
    expect(await outcome).toBe(
      'node shutdown manager was timed out after 5 attempts waiting for logind InhibitDelayMaxSec to update to 30s (ShutdownGracePeriod), current value is 5s',
    );
    expect(logind.calls.filter((c) => c === 'delay')).toHaveLength(6);
    expect(logind.calls).not.toContain('inhibit');
    expect(logind.closed).toBe(true);
  });

  it('releases the lock and reports upstream text when monitoring fails', async () => {
    const logind = new FakeLogind(30_000);
    logind.failMonitor = true;
    const { manager } = setup(logind);
    await expect(manager.start()).rejects.toThrow('failed to monitor shutdown: AddMatch refused');
    expect(logind.locksHeld).toBe(0);
  });

  it('on shutdown: refuses pods, makes Ready False, kills by priority, records times, then releases the lock', async () => {
    const logind = new FakeLogind(30_000);
    const { manager, killed, events, registry, stateFile, syncs } = setup(logind);
    await manager.start();
    logind.emit?.(true);
    await manager.idle();
    expect(manager.admit()).toEqual({
      admit: false,
      reason: 'NodeShutdown',
      message: 'Pod was rejected as the node is shutting down.',
    });
    expect(manager.shutdownStatus()).toBe('node is shutting down');
    expect(syncs()).toBe(1);
    expect(events).toEqual(['Normal NodeShutdown Shutdown manager detected shutdown event']);
    expect(killed).toEqual(['web 20', 'dns 10']);
    expect(logind.locksHeld).toBe(0);
    const start = Date.UTC(2026, 10, 27, 6, 0, 0);
    expect(await stateFile.load()).toEqual({ startMs: start, endMs: start + 3000 });
    const text = await registry.metrics();
    expect(text).toContain(
      '# HELP kubelet_graceful_shutdown_start_time_seconds [ALPHA] Last graceful shutdown',
    );
    expect(text).toContain(`kubelet_graceful_shutdown_start_time_seconds ${start / 1000}\n`);
    expect(text).toContain(`kubelet_graceful_shutdown_end_time_seconds ${start / 1000 + 3}\n`);
    await manager.stop();
  });

  it('on cancellation: admits again and takes a new lock', async () => {
    const logind = new FakeLogind(30_000);
    const { manager, events } = setup(logind, { activePods: () => [] });
    await manager.start();
    logind.emit?.(true);
    await manager.idle();
    expect(logind.locksHeld).toBe(0);
    logind.emit?.(false);
    await manager.idle();
    expect(manager.admit()).toEqual({ admit: true });
    expect(logind.locksHeld).toBe(1);
    expect(events.at(-1)).toBe('Normal NodeShutdown Shutdown manager detected shutdown cancellation');
    await manager.stop();
  });

  it('stops without waiting out a shutdown in progress, releasing the lock', async () => {
    const logind = new FakeLogind(30_000);
    const { manager, stateFile } = setup(logind, { killPod: () => new Promise<void>(() => {}) });
    await manager.start();
    logind.emit?.(true);
    // The start is on disk (so nothing writes into the directory once the test removes it).
    await waitFor(
      'the recorded start',
      async () => (await stateFile.load()).startMs !== undefined,
      10_000,
      5,
    );
    expect(manager.shutdownStatus()).toBe('node is shutting down');
    await manager.stop();
    expect(logind.locksHeld).toBe(0);
    expect(logind.closed).toBe(true);
  });

  it('goes on handling events after one failed', async () => {
    const logind = new FakeLogind(30_000);
    const errors: string[] = [];
    const { manager } = setup(logind, {
      activePods: () => {
        throw new Error('pods unreadable');
      },
      logger: { ...quiet, error: (fields) => errors.push(String((fields as { err?: string }).err)) },
    });
    await manager.start();
    logind.emit?.(true);
    await manager.idle();
    expect(errors).toEqual(['pods unreadable']);
    expect(logind.locksHeld).toBe(0);
    logind.emit?.(false);
    await manager.idle();
    expect(manager.admit()).toEqual({ admit: true });
    expect(logind.locksHeld).toBe(1);
    await manager.stop();
  });

  it('connects again a second after the connection is lost', async () => {
    const first = new FakeLogind(30_000);
    const second = new FakeLogind(30_000);
    const connections = [first, second];
    const { manager, clock } = setup(first, { connect: async () => connections.shift() ?? second });
    await manager.start();
    first.end?.(new Error('bus closed'));
    expect(first.closed).toBe(true);
    clock.advance(999);
    await settle();
    expect(second.calls).toEqual([]);
    clock.advance(1);
    await settle();
    expect(second.calls).toEqual(['delay', 'inhibit', 'monitor']);
    // The new lock replaced the one taken on the lost connection.
    expect(first.locksHeld).toBe(0);
    await manager.stop();
  });

  it('sets the gauges from the state file at start', async () => {
    const logind = new FakeLogind(30_000);
    const { manager, registry } = setup(logind);
    await writeFile(
      join(dir, 'graceful_node_shutdown_state'),
      '{"startTime":"2026-11-26T10:00:00.5Z","endTime":"0001-01-01T00:00:00Z"}',
    );
    await manager.start();
    const text = await registry.metrics();
    expect(text).toContain(
      `kubelet_graceful_shutdown_start_time_seconds ${Date.UTC(2026, 10, 26, 10) / 1000}\n`,
    );
    expect(text).toContain('kubelet_graceful_shutdown_end_time_seconds 0\n');
    await manager.stop();
  });
});

describe('ShutdownStateFile', () => {
  it("writes upstream's JSON with Go's zero time for an end not reached", async () => {
    const dir = await mkdtemp(join(tmpdir(), `node-shutdown-state-${process.pid}-`));
    try {
      const path = join(dir, 'graceful_node_shutdown_state');
      await new ShutdownStateFile(path).store({ startMs: Date.UTC(2026, 0, 2, 3, 4, 5, 6) });
      expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({
        startTime: '2026-01-02T03:04:05.006Z',
        endTime: '0001-01-01T00:00:00Z',
      });
      expect(await new ShutdownStateFile(join(dir, 'absent')).load()).toEqual({});
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('kubeletShutdownKill (upstream killPodNow over the pod workers)', () => {
  it('evicts with the shutdown reason and resolves once the worker has stopped the pod', async () => {
    const clock = new FakeClock();
    const evicted: unknown[] = [];
    let phase: string | undefined = 'syncing';
    const kill = kubeletShutdownKill(
      { evict: (p, grace, status) => evicted.push([p.metadata.name, grace, status]) > 0 },
      { phase: () => phase as 'syncing' },
      clock,
    );
    let done = false;
    const killed = kill(pod('web'), 20).then(() => {
      done = true;
    });
    expect(evicted).toEqual([
      [
        'web',
        20,
        { reason: 'Terminated', message: 'Pod was terminated in response to imminent node shutdown.' },
      ],
    ]);
    phase = 'terminating';
    clock.advance(200);
    await settle();
    expect(done).toBe(false);
    phase = 'terminated';
    clock.advance(200);
    await killed;
    expect(done).toBe(true);
  });

  it('gives up as upstream after 1.5x the grace period (at least 10 s), with an ExceededGracePeriod event', async () => {
    const clock = new FakeClock();
    const events: string[] = [];
    const kill = kubeletShutdownKill(
      { evict: () => true },
      { phase: () => 'terminating' },
      clock,
      (p, type, reason) => events.push(`${p.metadata.name} ${type} ${reason}`),
    );
    const outcome = kill(pod('db'), 30).then(
      () => 'stopped',
      (e: Error) => e.message,
    );
    clock.advance(44_800);
    await settle();
    expect(events).toEqual([]);
    clock.advance(200);
    expect(await outcome).toBe('timeout waiting to kill pod');
    expect(events).toEqual(['db Warning ExceededGracePeriod']);
  });
});

describe('node shutdown admission in the kubelet', () => {
  it('runs after AppArmor and before the predicate checks, refusing with NodeShutdown', () => {
    const handlers = kubeletAdmitHandlers({
      maxPods: 0,
      allowedUnsafeSysctls: [],
      eviction: () => ({ admit: true }),
      runtimeFeatures: () => undefined,
      appArmorHostError: () => undefined,
      nodeShutdown: { admit: () => ({ admit: false, reason: 'NodeShutdown', message: 'shutting down' }) },
    });
    // maxPods 0 would refuse the pod too (OutOfpods); the shutdown refusal comes first.
    const refusals = handlers.map((h) => h.admit({ pod: pod('web'), otherPods: [] })).filter((r) => !r.admit);
    expect(refusals[0]).toEqual({ admit: false, reason: 'NodeShutdown', message: 'shutting down' });
    expect(refusals).toHaveLength(2);
  });
});

describe('systemBusPathFromEnv (godbus: DBUS_SYSTEM_BUS_ADDRESS)', () => {
  it('takes the unix path of the variable, else the default socket', () => {
    expect(systemBusPathFromEnv({})).toBe('/var/run/dbus/system_bus_socket');
    expect(systemBusPathFromEnv({ DBUS_SYSTEM_BUS_ADDRESS: 'unix:path=/tmp/a%20b.sock' })).toBe(
      '/tmp/a b.sock',
    );
    expect(systemBusPathFromEnv({ DBUS_SYSTEM_BUS_ADDRESS: 'tcp:host=x;unix:guid=1,path=/run/bus' })).toBe(
      '/run/bus',
    );
  });
});
