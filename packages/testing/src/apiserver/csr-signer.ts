import { ecdsaP256, randomSerial, x509 } from '@nodeagent/primitives/x509';
import type { SigningCA } from './csr-signing-ca';
import { parseCertificateRequest } from './csr-x509';

export const KUBELET_SERVING_SIGNER = 'kubernetes.io/kubelet-serving';
export const KUBE_APISERVER_CLIENT_KUBELET_SIGNER = 'kubernetes.io/kube-apiserver-client-kubelet';
export const KUBE_APISERVER_CLIENT_SIGNER = 'kubernetes.io/kube-apiserver-client';
/** The signers kube-controller-manager's csrsigning controller serves (besides legacy-unknown). */
export const BUILT_IN_SIGNERS = [
  KUBELET_SERVING_SIGNER,
  KUBE_APISERVER_CLIENT_KUBELET_SIGNER,
  KUBE_APISERVER_CLIENT_SIGNER,
] as const;

/** What a parsed request says that the signers check. */
export interface RequestFacts {
  commonName: string;
  organizations: string[];
  dnsNames: string[];
  ipAddresses: string[];
  emailAddresses: string[];
  uris: string[];
}

/** The subjectAltName extension a request asks for, if any. */
function requestSubjectAltNames(
  csr: x509.Pkcs10CertificateRequest,
): x509.SubjectAlternativeNameExtension | undefined {
  const ext = csr.extensions.find((e) => e.type === '2.5.29.17');
  return ext ? new x509.SubjectAlternativeNameExtension(ext.rawData) : undefined;
}

export function requestFacts(csr: x509.Pkcs10CertificateRequest): RequestFacts {
  const name = csr.subjectName.toJSON();
  const values = (type: string) => name.flatMap((rdn) => rdn[type] ?? []);
  const san = requestSubjectAltNames(csr)?.names.toJSON() ?? [];
  const of = (type: string) => san.filter((n) => n.type === type).map((n) => n.value);
  return {
    commonName: values('CN')[0] ?? '',
    organizations: values('O'),
    dnsNames: of('dns'),
    ipAddresses: of('ip'),
    emailAddresses: of('email'),
    uris: of('url'),
  };
}

const sameSet = (a: readonly string[], b: readonly string[]) =>
  new Set(a).size === new Set(b).size && [...new Set(a)].every((x) => b.includes(x));

/** Go's fmt of a sorted []string, as upstream's "usages did not match %v" prints it. */
const goList = (list: readonly string[]) => `[${[...list].sort().join(' ')}]`;

/** ValidateKubeletClientCSR, with upstream's messages. */
export function validateKubeletClient(facts: RequestFacts, usages: readonly string[]): string | undefined {
  if (facts.organizations.length !== 1 || facts.organizations[0] !== 'system:nodes')
    return 'subject organization is not system:nodes';
  if (facts.dnsNames.length > 0) return 'DNS subjectAltNames are not allowed';
  if (facts.emailAddresses.length > 0) return 'Email subjectAltNames are not allowed';
  if (facts.ipAddresses.length > 0) return 'IP subjectAltNames are not allowed';
  if (facts.uris.length > 0) return 'URI subjectAltNames are not allowed';
  if (!facts.commonName.startsWith('system:node:'))
    return 'subject common name does not begin with system:node:';
  const required = ['digital signature', 'key encipherment', 'client auth'];
  if (!sameSet(usages, required) && !sameSet(usages, ['digital signature', 'client auth']))
    return `usages did not match ${goList(required)}`;
  return undefined;
}

/** ValidateKubeletServingCSR, with upstream's messages. */
export function validateKubeletServing(facts: RequestFacts, usages: readonly string[]): string | undefined {
  if (facts.organizations.length !== 1 || facts.organizations[0] !== 'system:nodes')
    return 'subject organization is not system:nodes';
  if (facts.dnsNames.length === 0 && facts.ipAddresses.length === 0)
    return 'DNS or IP subjectAltName is required';
  if (facts.emailAddresses.length > 0) return 'Email subjectAltNames are not allowed';
  if (facts.uris.length > 0) return 'URI subjectAltNames are not allowed';
  const required = ['digital signature', 'key encipherment', 'server auth'];
  if (!sameSet(usages, required) && !sameSet(usages, ['digital signature', 'server auth']))
    return `usages did not match ${goList(required)}`;
  if (!facts.commonName.startsWith('system:node:'))
    return 'subject common name does not begin with system:node:';
  return undefined;
}

/** validAPIServerClientUsages: client auth required, digital signature and key encipherment optional. */
export function validateApiServerClient(_facts: RequestFacts, usages: readonly string[]): string | undefined {
  for (const usage of usages)
    if (!['digital signature', 'key encipherment', 'client auth'].includes(usage))
      return `invalid usage for client certificate: ${usage}`;
  if (!usages.includes('client auth')) return 'missing required usage for client certificate: client auth';
  return undefined;
}

/** The validation of a built-in signer, or undefined for signer names the controller does not serve. */
export function validatorFor(
  signerName: string,
): ((facts: RequestFacts, usages: readonly string[]) => string | undefined) | undefined {
  if (signerName === KUBE_APISERVER_CLIENT_KUBELET_SIGNER) return validateKubeletClient;
  if (signerName === KUBELET_SERVING_SIGNER) return validateKubeletServing;
  if (signerName === KUBE_APISERVER_CLIENT_SIGNER) return validateApiServerClient;
  return undefined;
}

const KEY_USAGE_FLAGS: Record<string, number> = {
  signing: x509.KeyUsageFlags.digitalSignature,
  'digital signature': x509.KeyUsageFlags.digitalSignature,
  'content commitment': x509.KeyUsageFlags.nonRepudiation,
  'key encipherment': x509.KeyUsageFlags.keyEncipherment,
  'key agreement': x509.KeyUsageFlags.keyAgreement,
  'data encipherment': x509.KeyUsageFlags.dataEncipherment,
  'cert sign': x509.KeyUsageFlags.keyCertSign,
  'crl sign': x509.KeyUsageFlags.cRLSign,
  'encipher only': x509.KeyUsageFlags.encipherOnly,
  'decipher only': x509.KeyUsageFlags.decipherOnly,
};
const EXT_KEY_USAGES: Record<string, string> = {
  any: '2.5.29.37.0',
  'server auth': x509.ExtendedKeyUsage.serverAuth,
  'client auth': x509.ExtendedKeyUsage.clientAuth,
  'code signing': x509.ExtendedKeyUsage.codeSigning,
  'email protection': x509.ExtendedKeyUsage.emailProtection,
  's/mime': x509.ExtendedKeyUsage.emailProtection,
  'ipsec end system': '1.3.6.1.5.5.7.3.5',
  'ipsec tunnel': '1.3.6.1.5.5.7.3.6',
  'ipsec user': '1.3.6.1.5.5.7.3.7',
  timestamping: x509.ExtendedKeyUsage.timeStamping,
  'ocsp signing': x509.ExtendedKeyUsage.ocspSigning,
  'microsoft sgc': '1.3.6.1.4.1.311.10.3.3',
  'netscape sgc': '2.16.840.1.113730.4.1',
};

export interface SigningPolicy {
  /** The certificate lifetime (--cluster-signing-duration, or the shorter spec.expirationSeconds). */
  ttlMs: number;
  /** NotBefore goes this far back (upstream 5 min, against clock skew). */
  backdateMs: number;
  /** Below this lifetime NotAfter is not backdated (upstream 8 h). */
  shortMs: number;
  now: Date;
}

/**
 * The lifetime a CSR gets (signer.duration): the signer's TTL, or spec.expirationSeconds when
 * shorter, but never under 10 minutes.
 */
export function signingDurationMs(ttlMs: number, expirationSeconds: number | undefined): number {
  if (expirationSeconds === undefined) return ttlMs;
  const requested = expirationSeconds * 1000;
  if (requested > ttlMs) return ttlMs;
  return Math.max(requested, 10 * 60 * 1000);
}

/**
 * Issues a certificate for the PKCS#10 `requestPem` (authority.Sign with PermissiveSigningPolicy):
 * subject and SANs from the request, the CSR's usages as key usage / extended key usage, not a CA,
 * NotBefore backdated, NotAfter capped at the CA's own expiry.
 */
export async function signCertificate(
  ca: SigningCA,
  requestPem: string,
  usages: readonly string[],
  policy: SigningPolicy,
): Promise<string> {
  const csr = parseCertificateRequest(requestPem);
  if (!(await csr.verify())) throw new Error('x509: ECDSA verification failure');
  const now = policy.now.getTime();
  const notBefore = new Date(now - policy.backdateMs);
  let notAfter = new Date(
    policy.ttlMs < policy.shortMs ? now + policy.ttlMs : now + policy.ttlMs - policy.backdateMs,
  );
  if (notAfter >= ca.cert.notAfter) notAfter = ca.cert.notAfter;
  let keyUsage = 0;
  for (const usage of usages) keyUsage |= KEY_USAGE_FLAGS[usage] ?? 0;
  const extKeyUsage = usages.map((u) => EXT_KEY_USAGES[u]).filter((u): u is string => u !== undefined);
  const extensions: x509.Extension[] = [new x509.BasicConstraintsExtension(false, undefined, true)];
  if (keyUsage) extensions.push(new x509.KeyUsagesExtension(keyUsage, true));
  if (extKeyUsage.length > 0) extensions.push(new x509.ExtendedKeyUsageExtension(extKeyUsage));
  extensions.push(await x509.AuthorityKeyIdentifierExtension.create(ca.cert, false));
  const san = requestSubjectAltNames(csr);
  if (san) extensions.push(new x509.SubjectAlternativeNameExtension(san.names.toJSON()));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: csr.subjectName,
    issuer: ca.cert.subjectName,
    notBefore,
    notAfter,
    publicKey: csr.publicKey,
    signingKey: ca.privateKey,
    signingAlgorithm: ecdsaP256,
    extensions,
  });
  return cert.toString('pem');
}
