import { createHash, generateKeyPair, type KeyObject, sign } from 'node:crypto';
import { isIP } from 'node:net';
import { promisify } from 'node:util';
import { ipAddressBytes } from '../ip-address-bytes';
import {
  bitString,
  booleanTrue,
  derNull,
  explicit,
  implicitPrimitive,
  namedBits,
  objectIdentifier,
  octetString,
  sequence,
  setOf,
  smallInteger,
  time,
  utf8String,
} from './der';

/**
 * client-go's certutil.GenerateSelfSignedCertKey(host, nil, nil) (util/cert/cert.go), which
 * upstream's kubelet uses for <cert-dir>/kubelet.crt and kubelet.key: a CA of its own signs the
 * serving certificate, so a client can pin that CA.
 */
export interface SelfSignedCertKey {
  /** The serving certificate's PEM followed by its CA's PEM (upstream's "cert, followed by ca"). */
  cert: string;
  /** The serving key as PKCS#1 PEM ("RSA PRIVATE KEY", upstream's x509.MarshalPKCS1PrivateKey). */
  key: string;
}

/** An RSA key pair as node:crypto makes it. */
export interface RsaKeyPair {
  publicKey: KeyObject;
  privateKey: KeyObject;
}

/** Upstream's validFrom: an hour before now, "to avoid flakes due to clock skew". */
const CLOCK_SKEW_MS = 3600 * 1000;
/** Upstream's maxAge: "one year self-signed certs" (365 days from validFrom). */
const ONE_YEAR_MS = 365 * 24 * 3600 * 1000;

const OID = {
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  commonName: '2.5.4.3',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;

/** KeyUsage's bit numbers (RFC 5280 4.2.1.3). */
const KEY_USAGE = { digitalSignature: 0, keyEncipherment: 2, keyCertSign: 5 } as const;

const generateRsa = promisify(generateKeyPair);
const signAsync = promisify(sign);

/** A fresh RSA-2048 key pair (exponent 65537), made on libuv's pool. */
function generateRsaKeys(): Promise<RsaKeyPair> {
  return generateRsa('rsa', { modulusLength: 2048, publicExponent: 0x10001 });
}

/** sha256WithRSAEncryption with its NULL parameters. */
const sha256WithRsa = (): Buffer => sequence(objectIdentifier(OID.sha256WithRSAEncryption), derNull());

/** A Name holding one CN, as a UTF8String. */
const commonName = (cn: string): Buffer =>
  sequence(setOf(sequence(objectIdentifier(OID.commonName), utf8String(cn))));

/** One Extension; a non-critical one leaves `critical` (DEFAULT FALSE) out. */
function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  return sequence(objectIdentifier(oid), ...(critical ? [booleanTrue()] : []), octetString(value));
}

/** The key identifier Go's x509.CreateCertificate derives: SHA-1 of the RSAPublicKey's DER. */
function keyIdentifier(publicKey: KeyObject): Buffer {
  return createHash('sha1')
    .update(publicKey.export({ type: 'pkcs1', format: 'der' }))
    .digest();
}

/** What one certificate of the pair is made of. */
interface CertificateFields {
  serial: number;
  issuer: Buffer;
  subject: Buffer;
  notBefore: Date;
  notAfter: Date;
  publicKey: KeyObject;
  extensions: Buffer[];
  signingKey: KeyObject;
}

/** A v3 certificate's DER, its TBSCertificate signed with sha256WithRSAEncryption. */
async function certificate(fields: CertificateFields): Promise<Buffer> {
  const tbs = sequence(
    explicit(0, smallInteger(2)),
    smallInteger(fields.serial),
    sha256WithRsa(),
    fields.issuer,
    sequence(time(fields.notBefore), time(fields.notAfter)),
    fields.subject,
    fields.publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, sequence(...fields.extensions)),
  );
  const signature = await signAsync('sha256', tbs, fields.signingKey);
  return sequence(tbs, sha256WithRsa(), bitString(signature));
}

/** PEM of a certificate's DER: base64 in 64-character lines, no newline after the END line. */
function certificatePem(der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----`;
}

/**
 * The pair of generateSelfSignedCertKey from given keys (tests give the same keys to another
 * encoder and compare the bytes).
 */
export async function selfSignedCertKeyFrom(
  host: string,
  now: Date,
  caKeys: RsaKeyPair,
  servingKeys: RsaKeyPair,
): Promise<SelfSignedCertKey> {
  const unixSeconds = Math.floor(now.getTime() / 1000);
  const notBefore = new Date(now.getTime() - CLOCK_SKEW_MS);
  const notAfter = new Date(notBefore.getTime() + ONE_YEAR_MS);
  const caName = commonName(`${host}-ca@${unixSeconds}`);
  const caKeyId = keyIdentifier(caKeys.publicKey);
  const ca = await certificate({
    serial: 1,
    issuer: caName,
    subject: caName,
    notBefore,
    notAfter,
    publicKey: caKeys.publicKey,
    signingKey: caKeys.privateKey,
    extensions: [
      extension(
        OID.keyUsage,
        true,
        namedBits([KEY_USAGE.digitalSignature, KEY_USAGE.keyEncipherment, KEY_USAGE.keyCertSign]),
      ),
      extension(OID.basicConstraints, true, sequence(booleanTrue())),
      extension(OID.subjectKeyIdentifier, false, octetString(caKeyId)),
    ],
  });
  // Upstream parses with netutils.ParseIPSloppy, which also takes IPv4 with leading zeros.
  const ip = isIP(host) !== 0 ? ipAddressBytes(host) : undefined;
  const serving = await certificate({
    serial: 2,
    issuer: caName,
    subject: commonName(`${host}@${unixSeconds}`),
    notBefore,
    notAfter,
    publicKey: servingKeys.publicKey,
    signingKey: caKeys.privateKey,
    extensions: [
      extension(OID.keyUsage, true, namedBits([KEY_USAGE.digitalSignature, KEY_USAGE.keyEncipherment])),
      extension(OID.extKeyUsage, false, sequence(objectIdentifier(OID.serverAuth))),
      extension(OID.basicConstraints, true, sequence()),
      extension(OID.authorityKeyIdentifier, false, sequence(implicitPrimitive(0, caKeyId))),
      extension(
        OID.subjectAltName,
        false,
        sequence(ip ? implicitPrimitive(7, ip) : implicitPrimitive(2, Buffer.from(host, 'ascii'))),
      ),
    ],
  });
  return {
    cert: `${certificatePem(serving)}\n${certificatePem(ca)}\n`,
    key: servingKeys.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
  };
}

/**
 * Upstream's two certificates for `host` (IP SAN if it parses as an IP, else DNS SAN; nothing
 * else), RSA 2048 keys, SHA-256 signatures. `now` is the caller's clock: it gives the CNs'
 * `@<unix seconds>` and the validity. Serial numbers 1 (CA) and 2 (serving) are upstream's too.
 * The subject/authority key identifiers are what Go's x509.CreateCertificate adds by itself.
 * Checked against kubernetes/kubernetes cert.go as stored at commit 04791b49 (a v1.36 tag was not
 * available to read); the one-hour backdating came in with its fixtures support, older copies
 * start at now. The DER is written here (der.ts), byte for byte what @peculiar/x509 made of the
 * same fields (test/self-signed-cert-key.test.ts), without loading that library at a first start.
 */
export async function generateSelfSignedCertKey(host: string, now: Date): Promise<SelfSignedCertKey> {
  const [caKeys, servingKeys] = await Promise.all([generateRsaKeys(), generateRsaKeys()]);
  return selfSignedCertKeyFrom(host, now, caKeys, servingKeys);
}
