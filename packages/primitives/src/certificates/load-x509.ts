import type * as X509 from '@peculiar/x509';

// @peculiar/x509 with its ASN.1 schemas and dependency injection takes about 0.3 s of CPU to
// evaluate, which a kubelet paid at every start although it makes certificates only when it has
// none (first start, rotation). Makers of certificates load it when they make one.

let x509: Promise<typeof X509> | undefined;

/** @peculiar/x509, set up (../x509/x509-setup.ts), evaluated on first use. */
export function loadX509(): Promise<typeof X509> {
  x509 ??= import('../x509/x509-setup').then((m) => m.x509);
  return x509;
}
