// Docker/OCI reference grammar, reduced to what the fake needs to reject what containerd rejects.
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const DOMAIN =
  '(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?';
const REFERENCE = new RegExp(
  `^(?:${DOMAIN}/)?${COMPONENT}(?:/${COMPONENT})*(?::[\\w][\\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$`,
);

/** Whether `ref` is a valid Docker/OCI image reference, as containerd checks it. */
export function isValidImageReference(ref: string): boolean {
  return ref.length > 0 && ref.length <= 255 && REFERENCE.test(ref);
}

/** `name` → `name:latest` when there is neither tag nor digest. */
export function withDefaultTag(ref: string): string {
  if (ref.includes('@')) return ref;
  const lastSlash = ref.lastIndexOf('/');
  return ref.slice(lastSlash + 1).includes(':') ? ref : `${ref}:latest`;
}
