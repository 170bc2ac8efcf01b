import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Set by bundlers that inline the packages (tools/sea); undefined when run from source or dist/. */
declare const __NODEAGENT_VERSION__: string | undefined;

/** The Kubernetes release whose behaviour, flags and API the nodeagent binaries follow. */
export const KUBERNETES_VERSION = 'v1.36.3';

/**
 * Node's process.arch as Go's GOARCH spells it (what upstream binaries print, and the Node's
 * kubernetes.io/arch label): Node calls little-endian 64-bit POWER `ppc64`.
 */
export function goArch(arch: string = process.arch): string {
  const names: Record<string, string> = {
    x64: 'amd64',
    ia32: '386',
    arm64: 'arm64',
    arm: 'arm',
    ppc64: 'ppc64le',
  };
  return names[arch] ?? arch;
}

/**
 * The version in the package.json one directory above `moduleLocation` (a module's
 * import.meta.url, or its __dirname under CommonJS), which is the package root from src/ and
 * dist/ alike. Single-executable bundles have no package.json beside them; their build stamps
 * the version in instead.
 */
export function packageVersion(moduleLocation: string): string {
  if (typeof __NODEAGENT_VERSION__ === 'string') return __NODEAGENT_VERSION__;
  const dir = moduleLocation.startsWith('file:') ? dirname(fileURLToPath(moduleLocation)) : moduleLocation;
  return (JSON.parse(readFileSync(join(dir, '..', 'package.json'), 'utf8')) as { version: string }).version;
}

/** What a test may pin in versionText; each defaults to this process's own. */
export interface VersionRuntime {
  version?: string;
  nodeVersion?: string;
  platform?: string;
  arch?: string;
}

/**
 * What --version prints: exactly `Kubernetes v1.36.3`, one line, as upstream's binaries print it.
 * kubeadm's KubeletVersion preflight parses the whole trimmed output with
 * `^\s*Kubernetes v(\d+\.\d+\.\d+[-\w.+]*)\s*$`, so nothing else may be printed.
 */
export function versionText(): string {
  return `Kubernetes ${KUBERNETES_VERSION}`;
}

/**
 * What --version=raw prints: upstream's `version.Info{…}` line (the fields a Go build stamps are
 * empty here; Compiler names the runtime), then this binary's own name, package version and Node.js.
 */
export function rawVersionText(name: string, moduleLocation: string, runtime: VersionRuntime = {}): string {
  const version = runtime.version ?? packageVersion(moduleLocation);
  const node = runtime.nodeVersion ?? process.version;
  const platform = `${runtime.platform ?? process.platform}/${goArch(runtime.arch)}`;
  const [major, minor] = KUBERNETES_VERSION.slice(1).split('.');
  const info = [
    `Major:"${major}"`,
    `Minor:"${minor}"`,
    `GitVersion:"${KUBERNETES_VERSION}"`,
    'GitCommit:""',
    'GitTreeState:""',
    'BuildDate:""',
    'GoVersion:""',
    'Compiler:"node"',
    `Platform:"${platform}"`,
  ];
  return `version.Info{${info.join(', ')}}\n${name} v${version} (node ${node}, ${platform})`;
}

/** An app's version functions, bound to the module at `moduleLocation` (see packageVersion). */
export function appVersion(moduleLocation: string): {
  /** The app package's version. */
  packageVersion: () => string;
  /** `--version` output. */
  versionText: () => string;
  /** `--version=raw` output. */
  rawVersionText: (name: string, runtime?: VersionRuntime) => string;
} {
  return {
    packageVersion: () => packageVersion(moduleLocation),
    versionText,
    rawVersionText: (name, runtime) => rawVersionText(name, moduleLocation, runtime),
  };
}
