import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CriClient, createCriClient, isUnimplemented } from '../../src/index';
import { CgroupDriver } from '../../src/types/index';
import { type PrivateContainerd, startPrivateContainerd } from './private-containerd';

// Both versions in every run (not NODEAGENT_CONTAINERD's pick): the point is the difference.
// tools/containerd runs both with the cgroupfs driver (SystemdCgroup = false).
describe.each(['1.6', '2.1'] as const)(
  'Version and RuntimeConfig against a real containerd %s',
  (version) => {
    let c: PrivateContainerd;
    let cri: CriClient;

    beforeAll(async () => {
      c = await startPrivateContainerd({ version, images: false });
      cri = await createCriClient({ endpoint: c.endpoint });
    }, 60_000);

    afterAll(async () => {
      cri?.close();
      await c?.stop();
    }, 60_000);

    it(`reports containerd ${version}.x over CRI Version`, async () => {
      const v = await cri.version();
      expect(v.runtimeName).toBe('containerd');
      expect(v.runtimeApiVersion).toBe('v1');
      expect(v.runtimeVersion.startsWith(`${version}.`)).toBe(true);
    });

    if (version === '1.6') {
      it('answers RuntimeConfig with UNIMPLEMENTED (added in containerd 2.0)', async () => {
        const err = await cri.runtimeConfig().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(isUnimplemented(err)).toBe(true);
      });
    } else {
      it('answers RuntimeConfig with its cgroup driver: cgroupfs', async () => {
        expect(await cri.runtimeConfig()).toEqual({ linux: { cgroupDriver: CgroupDriver.CGROUPFS } });
      });
    }
  },
);
