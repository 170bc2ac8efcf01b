import { describe, expect, it } from 'vitest';
import { snapshotFromObjects } from '../src/index';
import { NftablesRuleset } from '../src/nftables/index';
import { service, slice } from './fixtures';
import { fakeNftables, fakeNftablesProxier } from './proxier-modes';

// Issue #54: at 5,000 Services × 50 endpoints the snapshot and the table's full update were
// ~0.7 s and ~1.3 s of CPU in one go, holding off SIGTERM, healthz and informer events. A full
// sync now hands the event loop back between them and every 500 Service ports.

const SERVICES = 1200;
const services = Array.from({ length: SERVICES }, (_, i) =>
  service(`s${i}`, { clusterIP: `10.96.${i >> 8}.${i & 255}` }),
);
const slices = Array.from({ length: SERVICES }, (_, i) =>
  slice(`s${i}`, [{ ip: `10.244.${i >> 8}.${i & 255}`, node: 'node-b' }]),
);

describe('nftables full sync in steps', () => {
  it('updateInSteps pauses every `every` Service ports and builds the same table as update', async () => {
    const snapshot = snapshotFromObjects({
      family: 'IPv4',
      nodeName: 'node-a',
      services,
      endpointSlices: slices,
    });
    const whole = new NftablesRuleset('IPv4');
    const inSteps = new NftablesRuleset('IPv4');
    let pauses = 0;
    const rewritten = await inSteps.updateInSteps(
      snapshot,
      async () => {
        pauses++;
      },
      500,
    );
    expect(rewritten).toBe(whole.update(snapshot));
    expect(pauses).toBe(Math.floor(SERVICES / 500));
    expect(inSteps.fullScript()).toBe(whole.fullScript());
  });

  it('a big full sync lets other work run before it writes the table', async () => {
    let otherWorkRan = false;
    let ranBeforeWrite: boolean | undefined;
    const nft = fakeNftables(() => {
      ranBeforeWrite ??= otherWorkRan;
    });
    const { proxier: p } = fakeNftablesProxier({}, nft);
    for (const s of services) p.onServiceAdd(s);
    for (const s of slices) p.onEndpointSliceAdd(s);
    p.onServicesSynced();
    p.onEndpointSlicesSynced();
    // Queued before the sync starts: it runs only if the sync hands the event loop back.
    setImmediate(() => {
      otherWorkRan = true;
    });
    expect(await p.syncProxyRules()).toMatchObject({ kind: 'full', ok: true });
    expect(ranBeforeWrite).toBe(true);
    await p.stop();
  });
});
