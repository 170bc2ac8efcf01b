// The one place @peculiar/x509 is set up: its dependency injection (tsyringe) needs the
// reflect-metadata polyfill loaded first, and it signs through Node's WebCrypto.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** ECDSA P-256 with SHA-256: the key type upstream's kubelet and kubeadm generate. */
export const ecdsaP256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export { x509 };
