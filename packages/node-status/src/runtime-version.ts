/**
 * The version part of nodeInfo.containerRuntimeVersion, as upstream's kubelet prints the CRI
 * RuntimeVersion: parsed as a semantic version (kept with its pre-release and build metadata),
 * else as a generic one, which keeps only the leading dotted numbers — so Debian's containerd
 * "1.6.20~ds1" is reported as "1.6.20". A version neither parse accepts is "Unknown".
 */
export function formatRuntimeVersion(version: string): string {
  const match = /^\s*v?([0-9]+(?:\.[0-9]+)*)(.*)$/s.exec(version);
  if (!match) return 'Unknown';
  const numbers = (match[1] as string).split('.');
  const extra = match[2] ?? '';
  const printed = numbers.map((n) => String(Number.parseInt(n, 10))).join('.');
  if (numbers.length === 3) {
    const semver =
      /^(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?\s*$/.exec(extra);
    if (semver && !numbers.some((n) => n.length > 1 && n.startsWith('0'))) {
      return `${printed}${semver[1] ? `-${semver[1]}` : ''}${semver[2] ? `+${semver[2]}` : ''}`;
    }
  }
  return numbers.length >= 2 ? printed : 'Unknown';
}

/** nodeInfo.containerRuntimeVersion: `<runtimeName>://<version>` (upstream VersionInfo setter). */
export function containerRuntimeVersion(runtime: { runtimeName: string; runtimeVersion: string }): string {
  return `${runtime.runtimeName}://${formatRuntimeVersion(runtime.runtimeVersion)}`;
}
