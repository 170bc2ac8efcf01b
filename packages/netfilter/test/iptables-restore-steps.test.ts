import { describe, expect, it } from 'vitest';
import { gatherPayload } from '../src/iptables/nft-netlink-restore';
import {
  encodeRestoreTextBatch,
  encodeRestoreTextBatchSteps,
} from '../src/iptables/nft-wire/restore-text-batch';
import { RulesetEncoder } from '../src/iptables/nft-wire/ruleset-batch';
import { readRestore, readRestoreSteps } from '../src/iptables/restore-reader';
import { BatchBuffer } from '../src/nftables/netlink/batch-buffer';
import { IPV4_FIRST } from './fixtures/iptables-nft-wire-shapes';

// A full iptables payload is read and encoded in steps of a few thousand lines, so the netlink
// restore can hand the event loop back between them (issue #85: 760,000 rules were one 3.5 s
// task of kube-proxy's main thread). The steps must read and encode exactly what one pass does.

/** A payload of `n` Services' worth of chains and rules, in iptables-save form. */
function bigPayload(n: number): string {
  const lines = ['*nat', ':PREROUTING ACCEPT [0:0]', ':KUBE-SERVICES - [0:0]'];
  for (let i = 0; i < n; i++) lines.push(`:KUBE-SVC-${i} - [0:0]`);
  for (let i = 0; i < n; i++) {
    lines.push(`-A KUBE-SERVICES -d 10.96.${i >> 8}.${i & 255}/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-${i}`);
    lines.push(`-A KUBE-SVC-${i} -p tcp -m tcp -j DNAT --to-destination 10.128.${i >> 8}.${i & 255}:8080`);
  }
  lines.push('COMMIT', '');
  return lines.join('\n');
}

/** Every handler call as text. */
function calls() {
  const seen: string[] = [];
  return {
    seen,
    handler: {
      table: (t: string) => seen.push(`table ${t}`),
      chain: (c: string, p?: string) => seen.push(`chain ${c} ${p ?? ''}`),
      deleteChain: (c: string) => seen.push(`delete ${c}`),
      rule: (c: string, tokens: string[]) => seen.push(`rule ${c} ${tokens.join(' ')}`),
      commit: () => seen.push('commit'),
    },
  };
}

/** The batch framed as one datagram, seqs from 1. */
function datagram(batch: BatchBuffer): Buffer {
  let seq = 0;
  return batch.frame(0, batch.messages.length, true, 0, () => ++seq).datagram;
}

describe('iptables restore text read and encoded in steps', () => {
  it('readRestoreSteps makes readRestore’s calls, a step per slice of lines, across pieces', () => {
    const text = bigPayload(3000);
    const once = calls();
    readRestore(text, once.handler);
    const stepped = calls();
    // Cut into pieces mid-line, as a stream's chunks may be.
    const pieces = [text.slice(0, 12_345), text.slice(12_345, 200_001), text.slice(200_001)];
    let steps = 0;
    for (const _ of readRestoreSteps(pieces, stepped.handler, 1000)) steps++;
    expect(stepped.seen).toEqual(once.seen);
    // 9,006 lines in slices of 1,000, and a step between pieces.
    expect(steps).toBeGreaterThanOrEqual(9);
  });

  it('encodeRestoreTextBatchSteps gives encodeRestoreTextBatch’s batch, byte for byte', () => {
    for (const text of [IPV4_FIRST, bigPayload(3000)]) {
      const whole = encodeRestoreTextBatch([text], 'ipv4');
      const steps = encodeRestoreTextBatchSteps([text], 'ipv4');
      let count = 0;
      let step = steps.next();
      for (; !step.done; step = steps.next()) count++;
      expect(step.value.stats).toEqual(whole.stats);
      expect(step.value.batch.messages.map((m) => m.operation)).toEqual(
        whole.batch.messages.map((m) => m.operation),
      );
      expect(datagram(step.value.batch).equals(datagram(whole.batch))).toBe(true);
      if (text !== IPV4_FIRST) expect(count).toBeGreaterThan(2);
    }
  });

  it('gatherPayload gives the event loop turns while a producer that never waits renders', async () => {
    async function* rendering() {
      for (let i = 0; i < 40; i++) {
        const until = performance.now() + 1;
        while (performance.now() < until);
        yield `chunk ${i}\n`;
      }
    }
    let turns = 0;
    let running = true;
    const turn = () => {
      turns++;
      if (running) setImmediate(turn);
    };
    setImmediate(turn);
    const parts = await gatherPayload(rendering(), ['iptables-restore']);
    running = false;
    expect(parts).toHaveLength(40);
    // 40 ms of rendering in slices of 8 ms.
    expect(turns).toBeGreaterThanOrEqual(3);
  });

  it('a table of many chains is begun in steps, with the same messages', () => {
    const head = {
      name: 'nat' as const,
      chains: Array.from({ length: 10_000 }, (_, i) => ({ name: `KUBE-SVC-${i}` })),
    };
    const whole = new BatchBuffer();
    new RulesetEncoder(whole, 'ipv4').beginTable(head);
    const stepped = new BatchBuffer();
    let steps = 0;
    for (const _ of new RulesetEncoder(stepped, 'ipv4').beginTableSteps(head, 1000)) steps++;
    // 10,000 declarations and 10,000 flushes, a step every 1,000.
    expect(steps).toBe(20);
    expect(datagram(stepped).equals(datagram(whole))).toBe(true);
  });

  it('a bad line is still refused with its line number', () => {
    const text = `${bigPayload(3000).replace('COMMIT\n', '')}-A NOWHERE -j ACCEPT\nCOMMIT\n`;
    // 3 head lines, 3,000 chains, 6,000 rules: the bad rule is line 9,004.
    expect(() => {
      for (const _ of encodeRestoreTextBatchSteps([text], 'ipv4'));
    }).toThrow(/^line 9004: rule for undeclared chain NOWHERE/);
  });
});
