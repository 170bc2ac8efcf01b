/**
 * A Kubernetes model type as it travels as JSON, which is what every object read from the API
 * server here is: `@kubernetes/client-node`'s model classes type timestamps (`creationTimestamp`,
 * `lastTransitionTime`, a Lease's `renewTime`, …) as `Date` because its own deserializer turns
 * them into Dates, but a request through `apiRequest`, a watch event or an informer's store hands
 * over the server's JSON, where they are RFC 3339 strings. `Wire<V1Node>` is `V1Node` with each
 * `Date` a `string`, so `node.metadata?.creationTimestamp?.getTime()` no longer type-checks where it
 * would throw. `Wire<Wire<T>>` is `Wire<T>`.
 */
export type Wire<T> = T extends Date
  ? string
  : T extends readonly (infer E)[]
    ? Wire<E>[]
    : T extends (...args: never[]) => unknown
      ? T
      : T extends object
        ? { [K in keyof T]: Wire<T[K]> }
        : T;
