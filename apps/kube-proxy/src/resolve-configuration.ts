import { readFileSync } from 'node:fs';
import {
  effectiveProxyMode,
  InvalidConfigurationError,
  InvalidFieldError,
  type KubeProxyConfiguration,
  parseKubeProxyConfiguration,
} from '@nodeagent/kube-proxy';
import { setKubeProxyConfigurationDefaults } from '@nodeagent/kube-proxy/config';
import { parse as parseYaml } from 'yaml';
import { overlayFlags } from './flags';
import { readableFile } from './readable-file';

export interface ResolveOptions {
  /** --config file path, if given. */
  configPath?: string;
  /** Parsed commander options. */
  opts: Record<string, unknown>;
  /** Whether the option came from the command line (commander's getOptionValueSource === 'cli'). */
  givenOnCommandLine: (optionName: string) => boolean;
  readFile?: (path: string) => string;
}

export interface ResolvedConfiguration {
  config: KubeProxyConfiguration;
  /** One line each, for stderr before anything else runs. */
  warnings: string[];
}

/**
 * Flags, then the --config file as upstream's Options.Complete takes them (see overlayFlags),
 * then defaults and validation. Every bad flag value, or every problem of the file, is thrown
 * at once in one InvalidConfigurationError.
 */
export function resolveConfiguration(o: ResolveOptions): ResolvedConfiguration {
  let base: Record<string, unknown> = {};
  if (o.configPath) {
    const text = readableFile('--config', o.configPath, o.readFile ?? ((p) => readFileSync(p, 'utf8')));
    let decoded: unknown;
    try {
      decoded = parseYaml(text);
    } catch (err) {
      // The parser's first line names the place; the file itself is not echoed back.
      const reason = ((err as Error).message.split('\n')[0] ?? 'not YAML').replace(/:$/, '');
      throw new InvalidConfigurationError([new InvalidFieldError('--config', o.configPath, reason)]);
    }
    if (
      decoded !== null &&
      decoded !== undefined &&
      (typeof decoded !== 'object' || Array.isArray(decoded))
    ) {
      throw new InvalidConfigurationError([
        new InvalidFieldError('--config', o.configPath, 'not a KubeProxyConfiguration object'),
      ]);
    }
    base = (decoded as Record<string, unknown> | null) ?? {};
  }
  // Without a file, upstream sets flags on an already defaulted configuration, so a flag's empty
  // value stays empty (--metrics-bind-address="" disables the server); a file is defaulted as read.
  const withFile = Boolean(o.configPath);
  if (!withFile) base = setKubeProxyConfigurationDefaults({}) as Record<string, unknown>;
  const overlay = overlayFlags(base, o.opts, o.givenOnCommandLine, withFile);
  let parsed: KubeProxyConfiguration | undefined;
  try {
    parsed = parseKubeProxyConfiguration(overlay.config, { applyDefaults: withFile });
  } catch (err) {
    // Bad flag values and the configuration's own problems, reported together.
    if (!(err instanceof InvalidConfigurationError)) throw err;
    throw new InvalidConfigurationError([...overlay.errors, ...err.errors]);
  }
  if (overlay.errors.length > 0) throw new InvalidConfigurationError(overlay.errors);
  const config = applyPlatformDefaults(parsed);
  return {
    config,
    warnings: overlay.warnings,
  };
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
