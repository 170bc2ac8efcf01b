import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '@nodeagent/primitives';
import { afterEach, describe, expect, it } from 'vitest';
import type { PodAdmitHandler } from '../src/admission/admit-handler';
import { parseKubeletConfiguration } from '../src/config/kubelet-configuration';
import { kubeletShutdownKill, kubeletWaitForUnmount } from '../src/nodeshutdown/kubelet-shutdown-kill';
import type { LogindInhibitor } from '../src/nodeshutdown/logind-inhibitor';
import { NodeShutdownManager } from '../src/nodeshutdown/node-shutdown-manager';
import { shutdownGracePeriods } from '../src/nodeshutdown/shutdown-grace-periods';
import { busybox, type EngineHarness, startEngine, testPod } from './helpers/engine';

const logs = join(tmpdir(), `na-kubelet-node-shutdown-${process.pid}`);
let h: EngineHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
  await rm(logs, { recursive: true, force: true });
});

/** A logind that allows any delay and lets the test announce a shutdown. */
function fakeLogind(): { logind: LogindInhibitor; announce: () => void; locks: () => number } {
  let emit: (shuttingDown: boolean) => void = () => {};
  let held = 0;
  const logind: LogindInhibitor = {
    currentInhibitDelayMs: async () => 3_600_000,
    overrideInhibitDelay: async () => {},
    reloadLogindConf: async () => {},
    inhibitShutdown: async () => {
      held++;
      let open = true;
      return {
        release: () => {
          if (open) held--;
          open = false;
        },
      };
    },
    monitorShutdown: async (onEvent) => {
      emit = onEvent;
      return { stop: () => {} };
    },
    close: () => {},
  };
  return { logind, announce: () => emit(true), locks: () => held };
}

const sleeper = { name: 'app', image: busybox, command: ['sh', '-c', 'sleep 3600'] };

describe('graceful node shutdown in the kubelet', () => {
  it('stops the running pods as upstream marks them, refuses new ones, then releases the lock', {
    timeout: 30_000,
  }, async () => {
    let manager: NodeShutdownManager | undefined;
    const admission: PodAdmitHandler = { admit: () => manager?.admit() ?? { admit: true } };
    const engine = await startEngine({
      config: parseKubeletConfiguration({ podLogsDir: logs }).config,
      nodeShutdownAdmission: admission,
    });
    h = engine;
    const { logind, announce, locks } = fakeLogind();
    manager = new NodeShutdownManager({
      periods: shutdownGracePeriods({ shutdownGracePeriod: '30s', shutdownGracePeriodCriticalPods: '10s' }),
      connect: async () => logind,
      activePods: () => engine.kubelet.podRequests.activePods(),
      // The kill waits on real time here: the fake runtime stops containers at once.
      killPod: kubeletShutdownKill(engine.kubelet.podRequests, engine.kubelet.workers, systemClock),
      waitForUnmount: kubeletWaitForUnmount(engine.kubelet.workers, systemClock),
      syncNodeStatus: () => {},
      clock: systemClock,
      logger: { info: () => {}, warn: () => {}, error: () => {} },
    });
    const web = testPod({ containers: [sleeper] });
    engine.kubelet.addPod(web);
    await engine.kubelet.settle();
    expect(engine.kubelet.getPodStatus(web.metadata.uid!)?.phase).toBe('Running');
    await manager.start();
    expect(locks()).toBe(1);

    announce();
    await manager.idle();
    // The lock goes only once the pod's cleanup (its volumes) is done.
    expect(engine.kubelet.workers.isCleanedUp(web.metadata.uid!)).toBe(true);
    await engine.kubelet.settle();
    const status = engine.kubelet.getPodStatus(web.metadata.uid!)!;
    expect(status).toMatchObject({
      phase: 'Failed',
      reason: 'Terminated',
      message: 'Pod was terminated in response to imminent node shutdown.',
    });
    expect(status.conditions?.find((c) => c.type === 'DisruptionTarget')).toMatchObject({
      status: 'True',
      reason: 'TerminationByKubelet',
      message: 'Pod was terminated in response to imminent node shutdown.',
    });
    const running = (await engine.client.listContainers({})).containers.filter((c) => c.state === 1);
    expect(running).toEqual([]);
    expect(locks()).toBe(0);

    const late = testPod({ containers: [sleeper] });
    engine.kubelet.addPod(late);
    await engine.kubelet.settle();
    expect(engine.kubelet.getPodStatus(late.metadata.uid!)).toMatchObject({
      phase: 'Failed',
      reason: 'NodeShutdown',
      message: 'Pod was rejected: Pod was rejected as the node is shutting down.',
    });
    await manager.stop();
  });
});
