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
  /** Key exchange groups in the configured order; undefined keeps the TLS library's default. */
  ecdhCurve?: string;
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
  const configured = new Set(fields.tlsCipherSuites.map((name) => legacyCipherNames[name] ?? name));
  for (const name of fields.tlsCipherSuites)
    if (insecureCipherSuites.has(legacyCipherNames[name] ?? name))
      warnings.push(`Use of insecure cipher '${name}' detected.`);
  const wanted =
    configured.size > 0
      ? tls12Suites.filter(([goName]) => configured.has(goName))
      : tls12Suites.filter(([goName]) => goDefaultCipherSuites.includes(goName));
  const offered = new Set(getCiphers().map((name) => name.toUpperCase()));
  const tls12 = wanted.filter(([goName, openSslName]) => {
    if (offered.has(openSslName)) return true;
    warnings.push(`tlsCipherSuites: ${goName} is not offered: this runtime's TLS library has no such suite`);
    return false;
  });
  const minVersion = tlsVersions[fields.tlsMinVersion] ?? 'TLSv1.2';
  // OpenSSL 3 refuses TLS 1.0 and 1.1 above security level 0; Go negotiates them when asked to.
  const securityLevel = minVersion === 'TLSv1' || minVersion === 'TLSv1.1' ? ['@SECLEVEL=0'] : [];
  const settings: ServingTlsSettings = {
    minVersion,
    ciphers: [...tls13Suites, ...tls12.map(([, openSslName]) => openSslName), ...securityLevel].join(':'),
    honorCipherOrder: true,
  };
  const groups = fields.tlsCurvePreferences.filter((id) => {
    if (groupAvailable(curveGroupNames.get(id))) return true;
    warnings.push(
      `tlsCurvePreferences: ${id} (${curveGroupNames.get(id) ?? 'unnamed'}) is not offered: this runtime's TLS library has no such group`,
    );
    return false;
  });
  if (groups.length > 0) settings.ecdhCurve = groups.map((id) => curveGroupNames.get(id)).join(':');
  return { settings, warnings };
}

function groupAvailable(name: string | undefined): boolean {
  if (name === undefined) return false;
  try {
    createSecureContext({ ecdhCurve: name });
    return true;
  } catch {
    return false;
  }
}
