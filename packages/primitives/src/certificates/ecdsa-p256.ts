/** ECDSA P-256 with SHA-256: the key type upstream's kubelet and kubeadm generate. */
export const ecdsaP256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
