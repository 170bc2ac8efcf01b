import type { KubeletServerOptions } from '@nodeagent/kubelet';
import { FEATURE_GATES_V1_36, resolveFeatureGates } from '@nodeagent/primitives/feature-gates';
import type { ResolvedKubeletOptions } from './kubelet-flags';

/** Upstream's nodeLogDir: what /logs/ serves. */
export const NODE_LOG_DIR = '/var/log/';

/**
 * /logs/ as upstream's InstallSystemLogHandler registers it (only with enableDebuggingHandlers,
 * which the server itself checks): enableSystemLogHandler (default true) serves `dir` (upstream's
 * /var/log/), false answers 405 `logs endpoint is disabled.`; the node log query (?query=…,
 * journalctl and the files under `dir`) is on with enableSystemLogQuery and the NodeLogQuery gate,
 * as upstream's kubelet.go checks both.
 */
export function systemLogsOption(
  config: ResolvedKubeletOptions['config'],
  dir: string = NODE_LOG_DIR,
): KubeletServerOptions['systemLogs'] {
  if (!config.enableSystemLogHandler) return false;
  const gates = resolveFeatureGates(config.featureGates, FEATURE_GATES_V1_36).enabled;
  return { dir, query: config.enableSystemLogQuery && gates.get('NodeLogQuery') === true };
}
