import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Set by bundlers that inline the package (tools/sea); undefined when run from source or dist/. */
declare const __NODEAGENT_VERSION__: string | undefined;

/** The Kubernetes release whose behaviour, flags and API this binary follows. */
export const KUBERNETES_VERSION = 'v1.34.0';

/** Node's process.arch as Go's GOARCH spells it (what upstream binaries print). */
export function goArch(arch: string = process.arch): string {
  const names: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm' };
  return names[arch] ?? arch;
}

/**
 * This package's version from its package.json, one directory above this file in src/ (run
 * from source) and in dist/ (built; ESM and CJS alike).
 */
export function packageVersion(): string {
  // Single-executable bundles have no package.json beside them; their build stamps the version in.
  if (typeof __NODEAGENT_VERSION__ === 'string') return __NODEAGENT_VERSION__;
  const here = typeof __dirname === 'string' ? __dirname : dirname(fileURLToPath(import.meta.url));
  return (JSON.parse(readFileSync(join(here, '..', 'package.json'), 'utf8')) as { version: string }).version;
}

/** What --version prints: `<name> v<version> (node <node version>, <os>/<arch>)`, then the Kubernetes version. */
export function versionText(
  name: string,
  runtime: { version?: string; nodeVersion?: string; platform?: string; arch?: string } = {},
): string {
  const version = runtime.version ?? packageVersion();
  const node = runtime.nodeVersion ?? process.version;
  const platform = runtime.platform ?? process.platform;
  return `${name} v${version} (node ${node}, ${platform}/${goArch(runtime.arch)})\nKubernetes ${KUBERNETES_VERSION}`;
}
