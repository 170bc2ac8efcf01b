import { ApiError } from './api-error';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

interface PatchOp {
  op: string;
  path: string;
  value?: Json;
  from?: string;
}

function patchError(message: string): ApiError {
  return new ApiError(422, 'Invalid', message);
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw patchError(`invalid JSON pointer: ${pointer}`);
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parent(doc: Json, tokens: string[], op: string, path: string): { container: Json; key: string } {
  let cur: Json = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(t)] as Json;
    else if (cur && typeof cur === 'object') cur = cur[t] as Json;
    else cur = undefined as unknown as Json;
    if (cur === undefined || cur === null || typeof cur !== 'object') {
      throw patchError(
        `the server rejected our request due to an error in our request: ${op} operation does not apply: doc is missing path: "${path}"`,
      );
    }
  }
  return { container: cur, key: tokens[tokens.length - 1] as string };
}

function getAt(doc: Json, path: string): Json {
  let cur: Json = doc;
  for (const t of parsePointer(path)) {
    if (Array.isArray(cur)) cur = cur[Number(t)] as Json;
    else if (cur && typeof cur === 'object') cur = cur[t] as Json;
    else cur = undefined as unknown as Json;
    if (cur === undefined) throw patchError(`doc is missing path: "${path}"`);
  }
  return cur;
}

function removeAt(doc: Json, path: string): Json {
  const { container, key } = parent(doc, parsePointer(path), 'remove', path);
  if (Array.isArray(container)) {
    const i = Number(key);
    if (!(i >= 0 && i < container.length))
      throw patchError(`remove operation does not apply: doc is missing path: "${path}"`);
    return container.splice(i, 1)[0] as Json;
  }
  const obj = container as Record<string, Json>;
  if (!Object.hasOwn(obj, key))
    throw patchError(`remove operation does not apply: doc is missing path: "${path}"`);
  const old = obj[key] as Json;
  delete obj[key];
  return old;
}

function addAt(doc: Json, path: string, value: Json, replace: boolean): Json {
  const tokens = parsePointer(path);
  if (tokens.length === 0) return value;
  const { container, key } = parent(doc, tokens, replace ? 'replace' : 'add', path);
  if (Array.isArray(container)) {
    if (replace) {
      const i = Number(key);
      if (!(i >= 0 && i < container.length))
        throw patchError(`replace operation does not apply: doc is missing path: "${path}"`);
      container[i] = value;
    } else if (key === '-') {
      container.push(value);
    } else {
      const i = Number(key);
      if (!(i >= 0 && i <= container.length))
        throw patchError(`add operation does not apply: index out of range: "${path}"`);
      container.splice(i, 0, value);
    }
  } else {
    const obj = container as Record<string, Json>;
    if (replace && !Object.hasOwn(obj, key))
      throw patchError(`replace operation does not apply: doc is missing key: "${path}"`);
    obj[key] = value;
  }
  return doc;
}

/** RFC 6902 JSON Patch. Returns a new document; the input is not modified. */
export function applyJsonPatch<T>(target: T, ops: unknown): T {
  if (!Array.isArray(ops)) throw new ApiError(400, 'BadRequest', 'json patch must be an array of operations');
  let doc = structuredClone(target) as Json;
  for (const raw of ops as PatchOp[]) {
    const op = raw?.op;
    switch (op) {
      case 'add':
        doc = addAt(doc, raw.path, structuredClone(raw.value ?? null), false);
        break;
      case 'replace':
        doc = addAt(doc, raw.path, structuredClone(raw.value ?? null), true);
        break;
      case 'remove':
        removeAt(doc, raw.path);
        break;
      case 'move': {
        const v = removeAt(doc, raw.from ?? '');
        doc = addAt(doc, raw.path, v, false);
        break;
      }
      case 'copy':
        doc = addAt(doc, raw.path, structuredClone(getAt(doc, raw.from ?? '')), false);
        break;
      case 'test':
        if (JSON.stringify(getAt(doc, raw.path)) !== JSON.stringify(raw.value)) {
          throw patchError(`testing value ${raw.path} failed`);
        }
        break;
      default:
        throw new ApiError(400, 'BadRequest', `Unexpected kind: ${String(op)}`);
    }
  }
  return doc as T;
}

/** RFC 7386 JSON Merge Patch: objects merge, null deletes, everything else replaces. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return structuredClone(patch);
  const base: Record<string, unknown> =
    target && typeof target === 'object' && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete base[k];
    else base[k] = applyMergePatch(base[k], v);
  }
  return base;
}
