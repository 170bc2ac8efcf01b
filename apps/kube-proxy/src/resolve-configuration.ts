import { readFileSync } from 'node:fs';
import {
  effectiveProxyMode,
  InvalidConfigurationError,
  InvalidFieldError,
  type KubeProxyConfiguration,
  parseKubeProxyConfiguration,
} from '@nodeagent/kube-proxy';
import { parse as parseYaml } from 'yaml';
import { overlayFlags } from './flags';

export interface ResolveOptions {
  /** --config file path, if given. */
  configPath?: string;
  /** Parsed commander options. */
  opts: Record<string, unknown>;
  /** Whether the option came from the command line (commander's getOptionValueSource === 'cli'). */
  givenOnCommandLine: (optionName: string) => boolean;
  readFile?: (path: string) => string;
}

/** File (if any), then command-line flags on top, then defaults and validation. */
export function resolveConfiguration(o: ResolveOptions): KubeProxyConfiguration {
  let base: Record<string, unknown> = {};
  if (o.configPath) {
    const text = (o.readFile ?? ((p) => readFileSync(p, 'utf8')))(o.configPath);
    let decoded: unknown;
    try {
      decoded = parseYaml(text);
    } catch (err) {
      throw new InvalidConfigurationError([
        new InvalidFieldError('--config', o.configPath, (err as Error).message),
      ]);
    }
    base = decoded && typeof decoded === 'object' ? (decoded as Record<string, unknown>) : {};
  }
  return applyPlatformDefaults(parseKubeProxyConfiguration(overlayFlags(base, o.opts, o.givenOnCommandLine)));
}

/**
 * Upstream's Linux platform defaults (platformApplyDefaults), applied after the file's defaults:
 * an empty `mode` is iptables, an empty `detectLocalMode` is ClusterCIDR, and nftables mode serves
 * NodePorts on the node's primary IPs unless nodePortAddresses says otherwise.
 */
export function applyPlatformDefaults(config: KubeProxyConfiguration): KubeProxyConfiguration {
  const out = { ...config, mode: effectiveProxyMode(config) };
  if (out.detectLocalMode === '') out.detectLocalMode = 'ClusterCIDR';
  if (out.mode === 'nftables' && (out.nodePortAddresses ?? []).length === 0)
    out.nodePortAddresses = ['primary'];
  return out;
}
