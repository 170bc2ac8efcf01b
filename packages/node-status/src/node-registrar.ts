import { PatchStrategy, setHeaderOptions, type V1Node } from '@kubernetes/client-node';
import type { CoreV1WireRequests } from '@nodeagent/informer';
import { isAlreadyExists } from '@nodeagent/informer/errors';
import { Backoff, type BackoffOptions, type Wire } from '@nodeagent/primitives';
import { reconcileExistingNode } from './node-object';
import type { ResolvedNodeStatusConfig } from './node-status-config';
import type { Sleeper } from './scheduler';

/** What a registration did: created the Node, patched an existing one, or found it as wanted. */
export type RegistrationOutcome = 'Created' | 'Reconciled' | 'Unchanged';

/**
 * One registration attempt, like the kubelet's tryRegisterWithAPIServer: create the Node; on
 * AlreadyExists read it and patch the labels/annotation the kubelet owns. Throws other errors.
 */
export async function tryRegisterNode(
  core: Pick<CoreV1WireRequests, 'createNode' | 'readNode' | 'patchNode'>,
  node: V1Node,
  config: ResolvedNodeStatusConfig,
  os: string,
  arch: string,
): Promise<{ outcome: RegistrationOutcome; node: Wire<V1Node> }> {
  try {
    return { outcome: 'Created', node: await core.createNode({ body: node }) };
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
  const existing = await core.readNode({ name: config.nodeName });
  const patch = reconcileExistingNode(existing, config, os, arch);
  if (!patch) return { outcome: 'Unchanged', node: existing };
  const updated = await core.patchNode(
    { name: config.nodeName, body: patch },
    setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
  );
  return { outcome: 'Reconciled', node: updated };
}

/** The kubelet's registration (and lease) retry: 100 ms doubling up to 7 s, no jitter, no idle reset. */
export const REGISTRATION_BACKOFF: BackoffOptions = {
  initialMs: 100,
  maxMs: 7_000,
  jitter: 0,
  resetAfterMs: Number.POSITIVE_INFINITY,
};

/** Registers with backoff (100 ms doubling to 7 s) until it works or the sleeper stops. */
export async function registerNodeWithRetry(
  core: Pick<CoreV1WireRequests, 'createNode' | 'readNode' | 'patchNode'>,
  node: V1Node,
  config: ResolvedNodeStatusConfig,
  os: string,
  arch: string,
  sleeper: Sleeper,
  onError?: (err: unknown, during: string) => void,
): Promise<{ outcome: RegistrationOutcome; node: Wire<V1Node> } | undefined> {
  const backoff = new Backoff(REGISTRATION_BACKOFF);
  while (!sleeper.isStopped) {
    try {
      return await tryRegisterNode(core, node, config, os, arch);
    } catch (err) {
      onError?.(err, 'Unable to register node with API server');
      if (!(await sleeper.sleep(backoff.next()))) return undefined;
    }
  }
  return undefined;
}
