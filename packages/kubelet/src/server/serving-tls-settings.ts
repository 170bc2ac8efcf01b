import { createSecureContext, getCiphers, type SecureVersion } from 'node:tls';
import {
  goDefaultCipherSuites,
  insecureCipherSuites,
  legacyCipherNames,
  tls12Suites,
  tls13Suites,
} from '../config/tls-cipher-suites';
import { curveGroupNames } from '../config/tls-curve-preferences';

/**
 * The kubelet server's TLS settings (tlsCipherSuites, tlsMinVersion, tlsCurvePreferences) as
 * upstream v1.36's InitializeTLS turns them into a Go tls.Config (Go 1.26's crypto/tls deciding
 * what each means), expressed as Node's server options.
 */

const tlsVersions: Readonly<Record<string, SecureVersion>> = {
  '': 'TLSv1.2', // Go's DefaultTLSVersion
  VersionTLS10: 'TLSv1',
  VersionTLS11: 'TLSv1.1',
  VersionTLS12: 'TLSv1.2',
  VersionTLS13: 'TLSv1.3',
};

/** What the kubelet server's TLS is given: Node's names for upstream's settings. */
export interface ServingTlsSettings {
  /** tlsMinVersion as Node names it; TLS 1.2 when unset (Go's DefaultTLSVersion). */
  minVersion: SecureVersion;
  /** TLS 1.3's suites, then the TLS 1.2 ones in Go's preference order (OpenSSL's names). */
  ciphers: string;
  /** The server picks by its own order, as Go's server does. */
  honorCipherOrder: true;
  /** Key exchange groups (OpenSSL's names) in Go's preference order. */
  ecdhCurve: string;
}

/** The configuration fields {@link servingTlsSettings} reads. */
export interface TlsConfigurationFields {
  /** Go's cipher suite names, as validated (tls-cipher-suites.ts). */
  tlsCipherSuites: readonly string[];
  /** VersionTLS10…VersionTLS13, or '' for Go's default. */
  tlsMinVersion: string;
  /** IANA TLS Supported Group IDs, as validated (tls-curve-preferences.ts). */
  tlsCurvePreferences: readonly number[];
}

/**
 * Upstream's TLS settings for this runtime, and a warning for each: upstream's own ("Use of
 * insecure cipher '…' detected.") and one for each suite or group this runtime's TLS library
 * cannot offer, left out by name rather than silently. The configuration was validated, so every
 * name and ID is one upstream accepts.
 */
export function servingTlsSettings(fields: TlsConfigurationFields): {
  settings: ServingTlsSettings;
  warnings: string[];
} {
  const warnings: string[] = [];
  const minVersion = tlsVersions[fields.tlsMinVersion] ?? 'TLSv1.2';
  // OpenSSL 3 refuses TLS 1.0 and 1.1 above security level 0; Go negotiates them when asked to.
  const securityLevel = minVersion === 'TLSv1' || minVersion === 'TLSv1.1' ? ['@SECLEVEL=0'] : [];
  const settings: ServingTlsSettings = {
    minVersion,
    ciphers: [...tls13Suites, ...tls12Ciphers(fields.tlsCipherSuites, warnings), ...securityLevel].join(':'),
    honorCipherOrder: true,
    ecdhCurve: keyExchangeGroups(fields.tlsCurvePreferences, warnings).join(':'),
  };
  return { settings, warnings };
}

/** OpenSSL's names of the TLS 1.2 suites Go would offer for `names`, in Go's order. */
function tls12Ciphers(names: readonly string[], warnings: string[]): string[] {
  const configured = new Set(names.map((name) => legacyCipherNames[name] ?? name));
  for (const name of names)
    if (insecureCipherSuites.has(legacyCipherNames[name] ?? name))
      warnings.push(`Use of insecure cipher '${name}' detected.`);
  const wanted = tls12Suites.filter(([goName]) =>
    configured.size > 0 ? configured.has(goName) : goDefaultCipherSuites.includes(goName),
  );
  const offered = new Set(getCiphers().map((name) => name.toUpperCase()));
  return wanted
    .filter(([goName, openSslName]) => {
      if (offered.has(openSslName)) return true;
      warnings.push(
        `tlsCipherSuites: ${goName} is not offered: this runtime's TLS library has no such suite`,
      );
      return false;
    })
    .map(([, openSslName]) => openSslName);
}

/**
 * OpenSSL's names of the groups Go would offer for `ids`: Go 1.26 keeps its own order (its
 * defaults, less what the list leaves out), as for suites. A list none of whose groups this
 * runtime has falls back to the defaults it has, the warnings naming each.
 */
function keyExchangeGroups(ids: readonly number[], warnings: string[]): string[] {
  const available = availableGroups();
  if (ids.length === 0) return available.map((id) => curveGroupNames.get(id) as string);
  const groups = goCurveOrder.filter((id) => ids.includes(id));
  for (const id of groups.filter((id) => !available.includes(id)))
    warnings.push(
      `tlsCurvePreferences: ${id} (${curveGroupNames.get(id)}) is not offered: this runtime's TLS library has no such group`,
    );
  const offered = groups.filter((id) => available.includes(id));
  return (offered.length > 0 ? offered : available).map((id) => curveGroupNames.get(id) as string);
}

/** Go 1.26's defaultCurvePreferences, which is also its order for a configured list. */
const goCurveOrder = [4588, 4587, 4589, 29, 23, 24, 25];

/**
 * The groups of Go's order this runtime's TLS library has. One context offered all of them
 * answers for all (Node 24's OpenSSL has every one); only a library that refuses the list is
 * asked group by group. A context per group was seven at every start (issue #51).
 */
function availableGroups(): readonly number[] {
  if (groupsAvailable(goCurveOrder)) return goCurveOrder;
  return goCurveOrder.filter((id) => groupsAvailable([id]));
}

/**
 * Whether OpenSSL takes every one of `ids` as a key exchange group (it refuses a list with one it
 * lacks). The probe trusts no CA (`ca: []`): without one Node gives a context its root store.
 */
function groupsAvailable(ids: readonly number[]): boolean {
  try {
    createSecureContext({ ecdhCurve: ids.map((id) => curveGroupNames.get(id) as string).join(':'), ca: [] });
    return true;
  } catch {
    return false;
  }
}
