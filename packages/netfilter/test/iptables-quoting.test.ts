import { describe, expect, it } from 'vitest';
import { splitTokens } from '../src/iptables/quoting';

// splitTokens slices plain and simply quoted tokens out of the line and builds only tokens with
// escapes or glued quotes character by character; both ways must split as iptables-restore does.

describe('splitTokens', () => {
  it('splits on spaces and tabs, quoted tokens whole', () => {
    expect(splitTokens('-A  KUBE-SVC\t-m comment --comment "ns/svc:http cluster IP" -j KUBE-SEP')).toEqual([
      '-A',
      'KUBE-SVC',
      '-m',
      'comment',
      '--comment',
      'ns/svc:http cluster IP',
      '-j',
      'KUBE-SEP',
    ]);
    expect(splitTokens('  ')).toEqual([]);
    expect(splitTokens('""')).toEqual(['']);
  });

  it('undoes escapes and glued quotes as iptables-restore does', () => {
    expect(splitTokens('--comment "a \\"b\\" c" x')).toEqual(['--comment', 'a "b" c', 'x']);
    expect(splitTokens('a\\ b c')).toEqual(['a b', 'c']);
    expect(splitTokens('pre"fix suffix"end next')).toEqual(['prefix suffixend', 'next']);
    expect(splitTokens('"a"b c')).toEqual(['ab', 'c']);
    expect(splitTokens('x "a b"c')).toEqual(['x', 'a bc']);
    // A backslash ending the line is kept.
    expect(splitTokens('a\\')).toEqual(['a\\']);
  });

  it('refuses an open quote', () => {
    expect(splitTokens('--comment "open')).toBeUndefined();
    expect(splitTokens('a "b\\" c')).toBeUndefined();
  });
});
