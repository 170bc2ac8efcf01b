/**
 * The TLS key exchange groups (IANA TLS Supported Group IDs) that Go 1.26's crypto/tls names,
 * the Go upstream v1.36 is built with (k8s.io/kubelet v0.36's go.mod: `go 1.26.0`), each with
 * OpenSSL's name for the group. Upstream accepts an ID in `tlsCurvePreferences` only if its Go
 * names it (a CurveID whose String() is not `CurveID(n)`), so these decide what v1.36 refuses.
 */
export const curveGroupNames: ReadonlyMap<number, string> = new Map([
  [23, 'P-256'], // CurveP256
  [24, 'P-384'], // CurveP384
  [25, 'P-521'], // CurveP521
  [29, 'X25519'],
  [4587, 'SecP256r1MLKEM768'], // new in Go 1.26
  [4588, 'X25519MLKEM768'],
  [4589, 'SecP384r1MLKEM1024'], // new in Go 1.26
]);

const maxUint16 = 65535;

/**
 * Why upstream v1.36 refuses `tlsCurvePreferences`, or undefined when it accepts the list.
 * Upstream checks the IDs in order and stops at the first bad one (component-base's
 * cliflag.TLSCurvePreferences, called from the kubelet's InitializeTLS before anything starts);
 * the reasons are its words, so an operator sees the same sentence from either kubelet.
 */
export function tlsCurvePreferencesProblem(ids: readonly number[]): string | undefined {
  const seen = new Set<number>();
  for (const id of ids) {
    if (id <= 0 || id > maxUint16) return `curve preference ${id} is out of range (must be 1-${maxUint16})`;
    if (seen.has(id)) return `duplicate curve preference ${id}`;
    seen.add(id);
    if (!curveGroupNames.has(id)) return `curve preference ${id} is not supported by the current Go version`;
  }
  return undefined;
}
