import { randomBytes } from 'node:crypto';
import type { KubeObject } from './kube-object';

type Obj = Record<string, unknown>;

/** Where the ServiceAccount admission plugin mounts the token volume in every container. */
export const SERVICE_ACCOUNT_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
/** The ConfigMap the root CA publisher keeps in every namespace, and the key it fills. */
export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
export const ROOT_CA_KEY = 'ca.crt';
/** Lifetime the plugin asks for (an hour and 7 s: the kubelet refreshes at 80%). */
const TOKEN_EXPIRATION_SECONDS = 3607;
const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * What kube-apiserver's ServiceAccount admission plugin adds to a pod on create when it
 * automounts the token (upstream mountServiceAccountToken): a projected volume
 * `kube-api-access-<5 random characters>` (a bound token of 3607 s at `token`, `ca.crt` from the
 * kube-root-ca.crt ConfigMap, the namespace from the downward API; mode 0644), and a read-only
 * mount of it at /var/run/secrets/kubernetes.io/serviceaccount in each container and init
 * container that has nothing mounted there. Nothing for mirror pods, or when the pod (or else its
 * service account) sets automountServiceAccountToken false. The recording of a real v1.36 server
 * (fidelity/pods-v1.36 in the repository) shows this volume with one more source its OpenShift build adds.
 */
export function mountServiceAccountToken(pod: KubeObject, serviceAccount: KubeObject | undefined): void {
  if (pod.metadata.annotations?.['kubernetes.io/config.mirror'] !== undefined) return;
  const spec = (pod.spec ?? {}) as Obj;
  const automount =
    typeof spec.automountServiceAccountToken === 'boolean'
      ? spec.automountServiceAccountToken
      : serviceAccount?.automountServiceAccountToken !== false;
  if (!automount) return;
  const containers = [spec.containers, spec.initContainers].flatMap((list) =>
    Array.isArray(list) ? (list.filter(isObj) as Obj[]) : [],
  );
  const needing = containers.filter(
    (c) =>
      !(Array.isArray(c.volumeMounts) ? (c.volumeMounts as Obj[]) : []).some(
        (m) => m.mountPath === SERVICE_ACCOUNT_MOUNT_PATH,
      ),
  );
  if (needing.length === 0) return;
  const suffix = [...randomBytes(5)].map((b) => NAME_ALPHABET[b % NAME_ALPHABET.length]).join('');
  const name = `kube-api-access-${suffix}`;
  for (const c of needing) {
    const mounts = Array.isArray(c.volumeMounts) ? (c.volumeMounts as Obj[]) : [];
    c.volumeMounts = [...mounts, { name, readOnly: true, mountPath: SERVICE_ACCOUNT_MOUNT_PATH }];
  }
  const volumes = Array.isArray(spec.volumes) ? (spec.volumes as Obj[]) : [];
  spec.volumes = [
    ...volumes,
    {
      name,
      projected: {
        defaultMode: 0o644,
        sources: [
          { serviceAccountToken: { expirationSeconds: TOKEN_EXPIRATION_SECONDS, path: 'token' } },
          { configMap: { name: ROOT_CA_CONFIGMAP, items: [{ key: ROOT_CA_KEY, path: ROOT_CA_KEY }] } },
          {
            downwardAPI: {
              items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }],
            },
          },
        ],
      },
    },
  ];
  pod.spec = spec;
}
