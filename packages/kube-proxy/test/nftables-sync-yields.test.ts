import { isInvalidOptionError } from '@nodeagent/primitives';
import { describe, expect, it } from 'vitest';
import { snapshotFromObjects } from '../src/index';
import { NftablesRuleset } from '../src/nftables/index';
import { service, slice } from './fixtures';
import { fakeNftables, fakeNftablesProxier } from './proxier-modes';

// Issue #54: at 5,000 Services × 50 endpoints the snapshot and the table's full update were
// ~0.7 s and ~1.3 s of CPU in one go, holding off SIGTERM, healthz and informer events. A full
// sync now hands the event loop back between them, and within the update once a slice of
// eventLoopSliceMs is spent (issue #85: the longest main-thread task, npm run bench --
// kube-proxy-loop); here 0, a turn at every check, so nothing depends on this machine's speed.

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

  it('a big full sync turns the event loop many times while it updates the table, not once', async () => {
    let turns = 0;
    let turnsAtWrite: number | undefined;
    const nft = fakeNftables(() => {
      turnsAtWrite ??= turns;
    });
    const { proxier: p } = fakeNftablesProxier({ eventLoopSliceMs: 0 }, nft);
    for (const s of services) p.onServiceAdd(s);
    for (const s of slices) p.onEndpointSliceAdd(s);
    p.onServicesSynced();
    p.onEndpointSlicesSynced();
    let running = true;
    const turn = () => {
      turns++;
      if (running) setImmediate(turn);
    };
    setImmediate(turn);
    expect(await p.syncProxyRules()).toMatchObject({ kind: 'full', ok: true });
    running = false;
    // 1,200 Service ports checked every 16, and the first fill's indexes in steps: ~75 turns.
    expect(turnsAtWrite).toBeGreaterThan(SERVICES / 16);
    await p.stop();
  });

  it('a big full sync lets other work run before it writes the table', async () => {
    let otherWorkRan = false;
    let ranBeforeWrite: boolean | undefined;
    const nft = fakeNftables(() => {
      ranBeforeWrite ??= otherWorkRan;
    });
    const { proxier: p } = fakeNftablesProxier({ eventLoopSliceMs: 0 }, nft);
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

  it('refuses a negative eventLoopSliceMs when the proxier is made, naming the option', () => {
    let error: unknown;
    try {
      fakeNftablesProxier({ eventLoopSliceMs: -1 });
    } catch (err) {
      error = err;
    }
    expect(isInvalidOptionError(error)).toBe(true);
    expect((error as Error).message).toBe(
      'invalid eventLoopSliceMs -1: must be a number of milliseconds, 0 or more',
    );
  });
});
