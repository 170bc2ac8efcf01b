import type { CoreV1Event } from '@kubernetes/client-node';

/**
 * A Warning event the kubelet on node `n` records about pod default/p (uid u): reason Failed and
 * the name `p.<message>` unless `extra` says otherwise.
 */
export const podWarningEvent = (message: string, extra: Partial<CoreV1Event> = {}): CoreV1Event => ({
  metadata: { name: `p.${message}` },
  involvedObject: { kind: 'Pod', name: 'p', namespace: 'default', uid: 'u' },
  type: 'Warning',
  reason: 'Failed',
  message,
  source: { component: 'kubelet', host: 'n' },
  ...extra,
});
