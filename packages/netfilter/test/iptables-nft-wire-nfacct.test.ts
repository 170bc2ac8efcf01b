import { describe, expect, it } from 'vitest';
import { InvalidFieldError } from '../src/errors';
import { encodeIptablesNftBatch } from '../src/iptables/nft-wire/index';
import { parseSave } from '../src/iptables/parse-save';

// `-m nfacct --nfacct-name NAME` (kube-proxy's counters) as iptables-nft 1.8.9 writes it: the
// xt match "nfacct" revision 1 with xt_nfacct_match_info_v1 (name[32], an 8-byte pointer). The
// bytes below are the NFTA_MATCH_* attributes a kernel dump of the tool's rule showed.

const payload = (name: string) =>
  `*filter\n:KUBE-X - [0:0]\n-A KUBE-X -m nfacct --nfacct-name ${name} -j ACCEPT\nCOMMIT\n`;

function ruleHex(text: string): string {
  const [rule] = encodeIptablesNftBatch(parseSave(text, 'ipv4'))
    .batch.items()
    .filter((m) => m.operation.startsWith('add rule'));
  return Buffer.from(rule!.attributes).toString('hex');
}

describe('iptables-nft nfacct match', () => {
  it('is the xt match nfacct, revision 1, with the name in a 40-byte struct', () => {
    const name = Buffer.from('localhost_nps_accepted_pkts').toString('hex');
    const info = `2c000300${name}${'00'.repeat(40 - 27)}`;
    const match = `0b0001006e6661636374000008000200000000012c0003`;
    const hex = ruleHex(payload('localhost_nps_accepted_pkts'));
    expect(hex).toContain(match);
    expect(hex).toContain(info);
  });

  it('refuses a name the kernel cannot hold, naming the flag and the value', () => {
    const long = 'x'.repeat(32);
    expect(() => ruleHex(payload(long))).toThrow(InvalidFieldError);
    expect(() => ruleHex(payload(long))).toThrow(/--nfacct-name/);
  });
});
