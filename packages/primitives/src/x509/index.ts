// @nodeagent/primitives/x509: @peculiar/x509 set up once, and self-signed certificates. A subpath,
// so the root stays free of dependencies.
export { randomSerial } from './random-serial';
export { generateSelfSignedCertKey, type SelfSignedCertKey } from './self-signed-cert-key';
export { type PemKeyPair, type SelfSignedOptions, selfSignedCertificate } from './self-signed-certificate';
export { ecdsaP256, x509 } from './x509-setup';
