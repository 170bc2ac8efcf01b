import { type CommandRunner, IptablesClient } from '@nodeagent/netfilter';
import type { IPFamily } from '../model/ip-family';

/**
 * The iptables client userspace mode programs its REDIRECT rules with (and cleanupPortalRules
 * removes them with), for one family; pass a runner to work inside a namespace.
 */
export function portalIptablesFor(family: IPFamily, runner?: CommandRunner): IptablesClient {
  return new IptablesClient({ family: family === 'IPv6' ? 'ipv6' : 'ipv4', ...(runner ? { runner } : {}) });
}
