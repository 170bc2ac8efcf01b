import { describe, expect, it } from 'vitest';
import { ParseError } from '../src/errors';
import { encodeIptablesNftBatch, IptablesNftUnsupportedError } from '../src/iptables/nft-wire/index';
import { encodeRestoreTextBatch } from '../src/iptables/nft-wire/restore-text-batch';
import { parseSave } from '../src/iptables/parse-save';
import { BatchBuffer } from '../src/nftables/netlink/batch-buffer';
import { IPV4_FIRST, IPV4_SECOND, IPV6_FIRST } from './fixtures/iptables-nft-wire-shapes';

// Restore text encoded as it is read (the full-sync path, issue #54) against the model path
// (parseSave, then encodeIptablesNftBatch): the same messages, rules in the text's order.

type Items = ReturnType<ReturnType<typeof encodeIptablesNftBatch>['batch']['items']>;

/** Messages as text: everything but the rules in order, then each chain's rules in order. */
function byChain(items: Items): { others: string[]; rules: Record<string, string[]> } {
  const others: string[] = [];
  const rules: Record<string, string[]> = {};
  for (const m of items) {
    const text = `${m.type}/${m.flags}/${m.family} ${m.operation} ${Buffer.from(m.attributes).toString('hex')}`;
    if (!m.operation.startsWith('add rule ')) others.push(text);
    else if (rules[m.operation]) rules[m.operation]!.push(text);
    else rules[m.operation] = [text];
  }
  return { others, rules };
}

describe('iptables-nft batch from restore text', () => {
  it('writes the messages the model path writes, for every fixture shape', () => {
    for (const [payload, family] of [
      [IPV4_FIRST, 'ipv4'],
      [IPV4_SECOND, 'ipv4'],
      [IPV6_FIRST, 'ipv6'],
    ] as const) {
      const model = encodeIptablesNftBatch(parseSave(payload, family));
      const text = encodeRestoreTextBatch([payload], family);
      expect(text.stats).toEqual(model.stats);
      expect(byChain(text.batch.items())).toEqual(byChain(model.batch.items()));
    }
  });

  it('takes a payload in parts, each of whole tables, as one batch', () => {
    const nat = IPV4_FIRST.slice(0, IPV4_FIRST.indexOf('COMMIT\n') + 'COMMIT\n'.length);
    const filter = IPV4_FIRST.slice(nat.length);
    expect(filter.startsWith('*filter')).toBe(true);
    const whole = encodeRestoreTextBatch([IPV4_FIRST], 'ipv4').batch.items();
    const parts = encodeRestoreTextBatch([nat, '', filter], 'ipv4').batch.items();
    expect(byChain(parts)).toEqual(byChain(whole));
  });

  it("takes a payload cut anywhere (a stream's chunks) as the whole text", () => {
    const whole = byChain(encodeRestoreTextBatch([IPV4_FIRST], 'ipv4').batch.items());
    // Cuts inside a line, at a line's end, inside a quoted comment, and one-character pieces.
    for (const size of [1, 7, 64, 1000]) {
      const pieces: string[] = [];
      for (let at = 0; at < IPV4_FIRST.length; at += size) pieces.push(IPV4_FIRST.slice(at, at + size));
      expect(byChain(encodeRestoreTextBatch(pieces, 'ipv4').batch.items())).toEqual(whole);
    }
  });

  it('finds a refused module cut between two pieces, naming its line', () => {
    const payload = `*nat\n:KUBE-A - [0:0]\n-A KUBE-A -m recent --name X --rcheck -j RETURN\nCOMMIT\n`;
    const at = payload.indexOf(' -m recent ') + 4;
    const refused = (() => {
      try {
        encodeRestoreTextBatch([payload.slice(0, at), payload.slice(at)], 'ipv4');
      } catch (error) {
        return error;
      }
    })();
    expect(refused).toBeInstanceOf(IptablesNftUnsupportedError);
    expect((refused as IptablesNftUnsupportedError).field).toBe('line 3');
  });

  it('names the line of a parse error in the whole payload, not in its piece', () => {
    const payload = `*nat\n:KUBE-A - [0:0]\n-A KUBE-A -j RETURN\n-A KUBE-B -j RETURN\nCOMMIT\n`;
    const cut = payload.indexOf('-A KUBE-B') + 2;
    expect(() => encodeRestoreTextBatch([payload.slice(0, cut), payload.slice(cut)], 'ipv4')).toThrow(
      expect.objectContaining({ line: 4 }),
    );
  });

  it('keeps each chain in order when the text interleaves chains', () => {
    const payload = `*nat\n:KUBE-A - [0:0]\n:KUBE-B - [0:0]\n-A KUBE-A -j KUBE-B\n-A KUBE-B -j RETURN\n-A KUBE-A -j ACCEPT\nCOMMIT\n`;
    const operations = encodeRestoreTextBatch([payload], 'ipv4')
      .batch.items()
      .filter((m) => m.operation.startsWith('add rule'))
      .map((m) => m.operation);
    expect(operations).toEqual([
      'add rule ip nat KUBE-A',
      'add rule ip nat KUBE-B',
      'add rule ip nat KUBE-A',
    ]);
    expect(byChain(encodeRestoreTextBatch([payload], 'ipv4').batch.items())).toEqual(
      byChain(encodeIptablesNftBatch(parseSave(payload, 'ipv4')).batch.items()),
    );
  });

  it('refuses a chain declared again or deleted after its rules (parseSave drops those rules)', () => {
    for (const late of [':KUBE-A - [0:0]', '-X KUBE-A']) {
      const payload = `*nat\n:KUBE-A - [0:0]\n-A KUBE-A -j RETURN\n${late}\nCOMMIT\n`;
      const refused = (() => {
        try {
          encodeRestoreTextBatch([payload], 'ipv4');
        } catch (error) {
          return error;
        }
      })();
      expect(refused).toBeInstanceOf(IptablesNftUnsupportedError);
      expect((refused as IptablesNftUnsupportedError).field).toBe('nat/KUBE-A');
    }
    // Declared twice before any rule, deleted without rules: taken as parseSave takes them.
    const fine = `*nat\n:KUBE-A - [0:0]\n:KUBE-A - [0:0]\n:KUBE-OLD - [0:0]\n-X KUBE-OLD\n-A KUBE-A -j RETURN\nCOMMIT\n`;
    expect(byChain(encodeRestoreTextBatch([fine], 'ipv4').batch.items())).toEqual(
      byChain(encodeIptablesNftBatch(parseSave(fine, 'ipv4')).batch.items()),
    );
  });

  it('refuses a module it never writes before reading anything, naming its line in the whole payload', () => {
    for (const [line, module] of [
      ['-A KUBE-A -m recent --name KUBE-SEP-R --rcheck --seconds 10800 --reap -j RETURN', 'recent'],
      ['-A KUBE-A -p tcp -m multiport --dports 80,443 -j RETURN', 'multiport'],
      ['-A KUBE-A -m set --match-set KUBE-X dst -j RETURN', 'set'],
    ] as const) {
      const payload = `*nat\n:KUBE-A - [0:0]\n-A KUBE-A -j RETURN\n${line}\nCOMMIT\n`;
      const batch = new BatchBuffer();
      const refused = (() => {
        try {
          encodeRestoreTextBatch([IPV4_FIRST, payload], 'ipv4', batch);
        } catch (error) {
          return error;
        }
      })();
      expect(refused).toBeInstanceOf(IptablesNftUnsupportedError);
      expect((refused as IptablesNftUnsupportedError).shape).toBe(`match ${module}`);
      // Line 4 of the second part: the parts are one payload, read as their concatenation.
      const linesBefore = IPV4_FIRST.split('\n').length - 1;
      expect((refused as IptablesNftUnsupportedError).field).toBe(`line ${linesBefore + 4}`);
      // Nothing was encoded, not even the first part.
      expect(batch.messages).toHaveLength(0);
      // The model path refuses it too, at the rule.
      expect(() => encodeIptablesNftBatch(parseSave(payload, 'ipv4'))).toThrow(IptablesNftUnsupportedError);
    }
  });

  it('refuses text parseSave refuses, with the same line', () => {
    for (const payload of [
      `*nat\n:KUBE-A - [0:0]\n-A KUBE-B -j RETURN\nCOMMIT\n`,
      `*nat\n:KUBE-A - [0:0]\n-A KUBE-A -m comment --comment "open\nCOMMIT\n`,
      `*nat\n:KUBE-A - [0:0]\n-A KUBE-A -j\nCOMMIT\n`,
      `*nat\n:KUBE-A - [0:0]\n`,
    ]) {
      const expected = (() => {
        try {
          parseSave(payload, 'ipv4');
        } catch (error) {
          return error;
        }
      })();
      expect(expected).toBeInstanceOf(ParseError);
      expect(() => encodeRestoreTextBatch([payload], 'ipv4')).toThrow(expected as ParseError);
      expect(() => encodeRestoreTextBatch([payload], 'ipv4')).toThrow(ParseError);
    }
  });

  it('writes parts beyond the fragment cache (4,096) as a fresh encoding would', () => {
    // 5,000 distinct jump targets: the first 4,096 are cached, the rest written directly.
    const names = Array.from({ length: 5000 }, (_, i) => `KUBE-SEP-${i}`);
    const payload = `*nat\n:KUBE-SVC - [0:0]\n${names.map((n) => `:${n} - [0:0]\n`).join('')}${names
      .map((n) => `-A KUBE-SVC -j ${n}\n`)
      .join('')}COMMIT\n`;
    const rules = encodeRestoreTextBatch([payload], 'ipv4')
      .batch.items()
      .filter((m) => m.operation.startsWith('add rule'));
    expect(rules).toHaveLength(5000);
    for (const i of [0, 4095, 4096, 4999]) {
      const alone = `*nat\n:KUBE-SVC - [0:0]\n:${names[i]} - [0:0]\n-A KUBE-SVC -j ${names[i]}\nCOMMIT\n`;
      const [fresh] = encodeRestoreTextBatch([alone], 'ipv4')
        .batch.items()
        .filter((m) => m.operation.startsWith('add rule'));
      expect(Buffer.from(rules[i]!.attributes).toString('hex')).toBe(
        Buffer.from(fresh!.attributes).toString('hex'),
      );
    }
  });
});
