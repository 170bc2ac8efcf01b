import { describe, expect, it } from 'vitest';
import { createProxyLogger } from '../src/logging';
import { IPVS_DEPRECATION_MESSAGE, logProxierChoice } from '../src/proxier-startup-log';

function linesFor(mode: string): string[] {
  const lines: string[] = [];
  const log = createProxyLogger({
    format: 'text',
    verbosity: 0,
    write: (l) => lines.push(l.trimEnd()),
    pid: 1,
    now: () => 0,
  });
  logProxierChoice(mode, log);
  return lines.map((l) => l.replace(/^([IWE])\d{4} [\d:.]+\s+1 /, '$1 '));
}

describe("the proxier choice, logged as upstream v1.36's createProxier does", () => {
  it('ipvs mode: the KEP-5495 deprecation at error level, in upstream words', () => {
    expect(IPVS_DEPRECATION_MESSAGE).toBe(
      "The ipvs proxier is now deprecated and may be removed in a future release. Please use 'nftables' instead.",
    );
    expect(linesFor('ipvs')).toEqual([
      'I kube-proxy] "Using ipvs Proxier"',
      `E kube-proxy] "${IPVS_DEPRECATION_MESSAGE}"`,
    ]);
  });

  it('other modes: only the choice', () => {
    expect(linesFor('nftables')).toEqual(['I kube-proxy] "Using nftables Proxier"']);
    expect(linesFor('iptables')).toEqual(['I kube-proxy] "Using iptables Proxier"']);
  });
});
