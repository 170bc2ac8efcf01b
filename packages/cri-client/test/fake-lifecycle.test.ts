import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeRuntime } from '../src/testing/index';
import { defineLifecycleScenario } from './scenario/lifecycle-scenario';

// Same names as tools/images builds, so the scenario is identical against both runtimes.
const PAUSE = 'localhost/nodeagent/pause:1.0';
const BUSYBOX = 'localhost/nodeagent/busybox:1.0';

/** The fake with the scenario's images, and its teardown; `inProcess` calls it without the socket. */
function fakeTarget(inProcess: boolean) {
  return async () => {
    const logRoot = await mkdtemp(join(tmpdir(), 'na-cri-fake-logs-'));
    const fake = await FakeRuntime.start({
      podSubnet: '10.99.7.0/24',
      images: [
        { ref: PAUSE, entrypoint: ['/bin/sleep', '2147483647'] },
        { ref: BUSYBOX, cmd: ['sh'] },
      ],
    });
    return {
      endpoint: fake.endpoint,
      pauseImage: PAUSE,
      busyboxImage: BUSYBOX,
      podSubnet: '10.99.7.0/24',
      logRoot,
      containerEvents: true,
      stopOfUnknownId: 'not-found' as const,
      ...(inProcess ? { transport: fake.inProcessTransport() } : {}),
      teardown: async () => {
        await fake.stop();
        await rm(logRoot, { recursive: true, force: true });
      },
    };
  };
}

defineLifecycleScenario('the fake runtime', fakeTarget(false));
// The same answers, errors included, through the in-process transport (hollow nodes use it).
defineLifecycleScenario('the fake runtime, in process', fakeTarget(true));
