/**
 * The start-up side of systemCgroups and kubeletCgroups: systemCgroups "/" stops the kubelet
 * with upstream's container manager line before any loop runs (so nothing of this host moves).
 */
import { describe, expect, it } from 'vitest';
import { StartupRefusedError } from '../src/startup-checks';
import { startSystemCgroups } from '../src/system-containers-start';

const logger = { info() {}, warn() {}, error() {} };

describe('startSystemCgroups', () => {
  it('refuses systemCgroups "/" as upstream\'s "Failed to start ContainerManager"', async () => {
    const refusal = startSystemCgroups(
      { systemCgroups: '/', kubeletCgroups: '', oomScoreAdj: -999 },
      2,
      logger,
    );
    await expect(refusal).rejects.toBeInstanceOf(StartupRefusedError);
    await expect(refusal).rejects.toThrow(
      'Failed to start ContainerManager: system container cannot be root ("/")',
    );
  });
});
