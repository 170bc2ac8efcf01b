import { availableParallelism } from 'node:os';
import type { KubeProxyConfiguration } from '@nodeagent/kube-proxy';
import {
  applyNodeSysctls,
  hashsizeFile,
  planNodeSysctls,
  procSysctlLayer,
} from '@nodeagent/kube-proxy/runtime';
import type { Logger } from 'pino';

/**
 * The privileged node set-up upstream does before proxying (and alone with --init-only): the
 * conntrack table limit and timeouts, and route_localnet for localhost NodePorts. Userspace
 * bind-only mode promises to change nothing in the kernel, so it skips this.
 */
export async function setupNode(config: KubeProxyConfiguration, log: Logger): Promise<void> {
  if (config.mode === 'userspace' && config.userspaceBindOnly) return;
  const plan = planNodeSysctls(config, availableParallelism());
  const result = await applyNodeSysctls(plan, procSysctlLayer(), hashsizeFile());
  for (const warning of result.warnings) log.warn(warning);
  if (result.changed.length > 0) log.info({ changed: result.changed }, 'set node sysctls');
}
