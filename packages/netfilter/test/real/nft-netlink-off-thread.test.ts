import { fileURLToPath } from 'node:url';
import { NetnsScope } from '@nodeagent/testing';
import { afterAll, describe, expect, it } from 'vitest';

// The kernel runs an nf_tables batch inside the sendmsg that hands it over, in the sending
// thread: a full sync's batch is sent from a worker thread (off-thread-send.ts), so the event
// loop is not held for the kernel's work (the kube-proxy event-loop bench: ~0.4 s at 250k
// endpoints). CPU accounting, not wall time: during that send the process's CPU (the kernel
// inserting every element) must come mostly from another thread than the main one.

const CHILD = fileURLToPath(new URL('./nft-netlink-off-thread-child.ts', import.meta.url));
const ELEMENTS = 60_000;

describe('a large netlink batch sent off the main thread', () => {
  const scope = new NetnsScope('na-nftoff');
  afterAll(() => scope.cleanup());

  it('is applied whole, its kernel work charged to a worker thread, not the main one', {
    timeout: 300_000,
  }, async () => {
    const ns = await scope.create();
    const r = await ns.exec(
      process.execPath,
      ['--import', 'tsx', '--conditions=@nodeagent/source', CHILD, String(ELEMENTS)],
      {
        timeoutMs: 240_000,
      },
    );
    const { sends } = JSON.parse(r.stdout) as {
      sends: { bytes: number; mainCpuMs: number; processCpuMs: number }[];
    };
    expect(sends).toHaveLength(1);
    const [send] = sends as [(typeof sends)[0]];
    // 60k elements: tens of ms of the kernel's CPU at least, on whichever thread sent them.
    expect(send.processCpuMs).toBeGreaterThan(10);
    expect(send.mainCpuMs).toBeLessThan(send.processCpuMs / 2);
    const listed = await ns.exec('nft', ['list', 'map', 'ip', 'off-thread', 'big'], { timeoutMs: 120_000 });
    expect((listed.stdout.match(/ : goto target/g) ?? []).length).toBe(ELEMENTS);
  });
});
