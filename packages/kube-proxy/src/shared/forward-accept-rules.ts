/**
 * The KUBE-FORWARD accepts every mode writes: marked (service) traffic, then the rest of its
 * connections, so forwarding works even when the FORWARD policy is not ACCEPT.
 */
export function forwardAcceptRules(chain: string, mark: string): string[][] {
  return [
    [
      '-A',
      chain,
      '-m',
      'comment',
      '--comment',
      'kubernetes forwarding rules',
      '-m',
      'mark',
      '--mark',
      `${mark}/${mark}`,
      '-j',
      'ACCEPT',
    ],
    [
      '-A',
      chain,
      '-m',
      'comment',
      '--comment',
      'kubernetes forwarding conntrack rule',
      '-m',
      'conntrack',
      '--ctstate',
      'RELATED,ESTABLISHED',
      '-j',
      'ACCEPT',
    ],
  ];
}
