import type { KubernetesObject } from '@kubernetes/client-node';
import type { Wire } from '@nodeagent/primitives';

/**
 * An object an informer can hold: a Kubernetes object in its JSON form, which is all a list or
 * watch ever hands over. Timestamps are strings there, so the bound is client-node's
 * `KubernetesObject` with every `Date` a `string`: `Informer<Wire<V1Pod>>` (or any JSON shape with
 * string timestamps) fits, while a model type such as `Informer<V1Pod>` is a compile error, because
 * its `metadata.creationTimestamp` is typed `Date` and every client-node model carries that
 * `V1ObjectMeta`. Code that really needs a Date parses the string (`new Date(s)`).
 */
export type InformerObject = Wire<KubernetesObject>;
