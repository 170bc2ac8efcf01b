import type { KubernetesObject } from '@kubernetes/client-node';
import type { Wire } from '@nodeagent/primitives';

/**
 * An object an informer can hold: client-node's `KubernetesObject` shape or its JSON form. What a
 * watch or list hands over is JSON, so name the wire type (`Informer<Wire<V1Pod>>`) to have
 * timestamps typed as the strings they are; a model type (`Informer<V1Pod>`) still type-checks,
 * for code written before, but its Date fields are strings at run time.
 */
export type InformerObject = KubernetesObject | Wire<KubernetesObject>;
