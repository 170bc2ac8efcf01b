/**
 * What may be sent where a message `T` is expected: every field optional (unset is the proto3
 * default), nested messages likewise; a map's entries are as given. What is received is `T`
 * itself, every field present.
 */
export type MessageInit<T> = T extends string | number | boolean
  ? T
  : T extends readonly (infer E)[]
    ? readonly MessageInit<E>[]
    : T extends object
      ? string extends keyof T
        ? { [key: string]: MessageInit<T[keyof T & string]> }
        : { [K in keyof T]?: MessageInit<NonNullable<T[K]>> }
      : T;
