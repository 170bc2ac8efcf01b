/** A secret's namespace and name, as a PersistentVolume's CSI source names one. */
export interface CsiSecretReference {
  namespace?: string;
  name?: string;
}

/** Reads a Secret's data (values base64, as the API sends them); rejects with the API's error. */
export type CsiSecretReader = (namespace: string, name: string) => Promise<{ data?: Record<string, string> }>;

/**
 * The secrets a CSI call carries (upstream getCredentialsFromSecret): the Secret's data as text.
 * `what` names the reference (NodePublishSecretRef...) in the failure, in upstream's words.
 */
export async function csiSecrets(
  read: CsiSecretReader | undefined,
  ref: CsiSecretReference | undefined,
  what: 'NodePublishSecretRef' | 'NodeStageSecretRef' | 'NodeExpandSecretRef',
): Promise<Record<string, string> | undefined> {
  if (!ref?.name) return undefined;
  const namespace = ref.namespace ?? '';
  let secret: { data?: Record<string, string> };
  try {
    if (!read) throw new Error('no API server to read it from (standalone mode)');
    secret = await read(namespace, ref.name);
  } catch (e) {
    const cause = `kubernetes.io/csi: failed to find the secret ${ref.name} in the namespace ${namespace} with error: ${apiMessage(e)}`;
    if (what === 'NodeExpandSecretRef')
      throw new Error(
        `expander.NodeExpand failed to get NodeExpandSecretRef ${namespace}/${ref.name}: ${cause}`,
      );
    throw new Error(`fetching ${what} ${namespace}/${ref.name} failed: ${cause}`);
  }
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(secret.data ?? {}))
    out[key] = Buffer.from(value, 'base64').toString();
  return out;
}

/** The API's own text of a failed read (its Status message, as client-go's error prints it), else the error's message. */
function apiMessage(e: unknown): string {
  const body = (e as { body?: unknown }).body;
  let status: unknown = body;
  if (typeof body === 'string') {
    try {
      status = JSON.parse(body);
    } catch {
      status = undefined;
    }
  }
  const message = (status as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message : (e as Error).message;
}
