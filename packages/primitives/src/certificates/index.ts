// @nodeagent/primitives/certificates: self-signed certificates and the key type, with
// @peculiar/x509 loaded only when a certificate is made (load-x509.ts). What a process imports at
// start (the kubelet) takes these; @nodeagent/primitives/x509 adds the library itself, set up.
export { ecdsaP256 } from './ecdsa-p256';
export { loadX509 } from './load-x509';
export { randomSerial } from './random-serial';
export { generateSelfSignedCertKey, type SelfSignedCertKey } from './self-signed-cert-key';
export { type PemKeyPair, type SelfSignedOptions, selfSignedCertificate } from './self-signed-certificate';
