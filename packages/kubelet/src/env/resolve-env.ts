import type { ConfigMap, Container, Pod, Secret } from '../api/pod-types';
import { CreateContainerConfigError } from '../errors';
import { expandVars } from './expand-vars';
import { type DownwardContext, resolveFieldPath, resolveResourceField } from './field-ref';
import { resolveFileKeyRef } from './file-key-ref';

/** Where configMapKeyRef/secretKeyRef/envFrom look things up (an informer cache or the API). */
export interface ObjectSource {
  /** The named ConfigMap, or undefined when it does not exist. */
  getConfigMap(namespace: string, name: string): Promise<ConfigMap | undefined>;
  /** The named Secret, or undefined when it does not exist. */
  getSecret(namespace: string, name: string): Promise<Secret | undefined>;
  /**
   * The pod is about to read the objects it references (upstream RegisterPod: a manager that
   * watches or caches them starts to); optional for sources that keep nothing per pod.
   */
  registerPod?(pod: Pod): void;
  /** The pod has terminated: the objects only it referenced are let go (upstream UnregisterPod). */
  unregisterPod?(pod: Pod): void;
}

/** One resolved environment variable of a container, in the order the runtime gets them (CRI KeyValue). */
export interface EnvVarValue {
  key: string;
  value: string;
}

export interface ResolveEnvOptions extends DownwardContext {
  objects: ObjectSource;
  /** Service link variables (FOO_SERVICE_HOST...), applied first so the pod's own env wins. */
  serviceEnv?: Record<string, string>;
  /** Host paths of the pod's mounted volumes by name, where fileKeyRef reads its env files. */
  volumeHostPaths?: ReadonlyMap<string, string>;
}

/**
 * Upstream makeEnvironmentVariables: service links, then envFrom sources in order, then env in
 * order with $(VAR) expansion against what is defined so far. Later definitions replace earlier
 * ones in place. Failures become CreateContainerConfigError naming the env var and the object.
 */
export async function resolveEnv(
  pod: Pod,
  container: Container,
  options: ResolveEnvOptions,
): Promise<EnvVarValue[]> {
  const namespace = pod.metadata.namespace ?? 'default';
  const env = new Map<string, string>();
  for (const [key, value] of Object.entries(options.serviceEnv ?? {})) env.set(key, value);

  for (const [index, source] of (container.envFrom ?? []).entries()) {
    const field = `envFrom[${index}]`;
    const prefix = source.prefix ?? '';
    let data: Record<string, string> | undefined;
    if (source.configMapRef) {
      const name = source.configMapRef.name ?? '';
      const configMap = await options.objects.getConfigMap(namespace, name);
      if (!configMap) {
        if (source.configMapRef.optional) continue;
        throw new CreateContainerConfigError(`${field}.configMapRef`, name, `configmap "${name}" not found`);
      }
      data = configMap.data ?? {};
    } else if (source.secretRef) {
      const name = source.secretRef.name ?? '';
      const secret = await options.objects.getSecret(namespace, name);
      if (!secret) {
        if (source.secretRef.optional) continue;
        throw new CreateContainerConfigError(`${field}.secretRef`, name, `secret "${name}" not found`);
      }
      data = decodeSecretData(secret);
    }
    // No name check here: since RelaxedEnvironmentVariableValidation (GA) any printable name
    // but '=' is valid, the API server validates prefixes and keys, and upstream's kubelet
    // passes every prefix+key through ("1-data-1", "#@!data-1").
    for (const [key, value] of Object.entries(data ?? {})) env.set(prefix + key, value);
  }

  for (const [index, variable] of (container.env ?? []).entries()) {
    const field = `env[${index}]`;
    const lookup = (name: string) => env.get(name);
    if (variable.valueFrom === undefined) {
      env.set(variable.name, expandVars(variable.value ?? '', lookup));
      continue;
    }
    const from = variable.valueFrom;
    if (from.fieldRef) {
      env.set(
        variable.name,
        resolveFieldPath(pod, from.fieldRef.fieldPath, options, `${field}.valueFrom.fieldRef.fieldPath`),
      );
    } else if (from.resourceFieldRef) {
      env.set(
        variable.name,
        resolveResourceField(
          pod,
          container,
          from.resourceFieldRef,
          options,
          `${field}.valueFrom.resourceFieldRef`,
        ),
      );
    } else if (from.configMapKeyRef) {
      const ref = from.configMapKeyRef;
      const name = ref.name ?? '';
      const configMap = await options.objects.getConfigMap(namespace, name);
      if (!configMap) {
        if (ref.optional) continue;
        throw new CreateContainerConfigError(
          `${field}.valueFrom.configMapKeyRef`,
          name,
          `configmap "${name}" not found`,
        );
      }
      const value = configMap.data?.[ref.key] ?? decodeBinary(configMap.binaryData?.[ref.key]);
      if (value === undefined) {
        if (ref.optional) continue;
        throw new CreateContainerConfigError(
          `${field}.valueFrom.configMapKeyRef.key`,
          ref.key,
          `couldn't find key ${ref.key} in ConfigMap ${namespace}/${name}`,
        );
      }
      env.set(variable.name, value);
    } else if (from.secretKeyRef) {
      const ref = from.secretKeyRef;
      const name = ref.name ?? '';
      const secret = await options.objects.getSecret(namespace, name);
      if (!secret) {
        if (ref.optional) continue;
        throw new CreateContainerConfigError(
          `${field}.valueFrom.secretKeyRef`,
          name,
          `secret "${name}" not found`,
        );
      }
      const value = decodeSecretData(secret)[ref.key];
      if (value === undefined) {
        if (ref.optional) continue;
        throw new CreateContainerConfigError(
          `${field}.valueFrom.secretKeyRef.key`,
          ref.key,
          `couldn't find key ${ref.key} in Secret ${namespace}/${name}`,
        );
      }
      env.set(variable.name, value);
    } else if (from.fileKeyRef) {
      const value = await resolveFileKeyRef(
        from.fileKeyRef,
        `${field}.valueFrom.fileKeyRef`,
        options.volumeHostPaths ?? new Map(),
      );
      if (value !== undefined) env.set(variable.name, value);
    } else {
      throw new CreateContainerConfigError(`${field}.valueFrom`, from, 'no supported source');
    }
  }
  return [...env].map(([key, value]) => ({ key, value }));
}

/** Expands $(VAR) in command and args against the container's resolved environment. */
export function expandCommand(args: string[] | undefined, env: EnvVarValue[]): string[] {
  const values = new Map(env.map((e) => [e.key, e.value]));
  return (args ?? []).map((arg) => expandVars(arg, (name) => values.get(name)));
}

/** Secret values as strings: data is base64 on the wire, stringData (manifests) is plain. */
export function decodeSecretData(secret: Secret): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(secret.data ?? {}))
    out[key] = Buffer.from(value, 'base64').toString('utf8');
  for (const [key, value] of Object.entries(secret.stringData ?? {})) out[key] = value;
  return out;
}

function decodeBinary(value: string | undefined): string | undefined {
  return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
}
