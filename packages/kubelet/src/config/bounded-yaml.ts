import { Parser, parse, parseAllDocuments } from 'yaml';

// YAML the kubelet reads (its configuration, drop-ins, static pod manifests) may be hostile. Two
// shapes would otherwise hurt the process: aliases expanded into an exponentially large value
// (billion laughs), and nesting deep enough to overflow the `yaml` package's recursive composer —
// which it catches once, but a second such parse in the same process can die in V8 (`FATAL
// ERROR: RegExpCompiler Allocation failed`, found by the hostile-input tests), and the static pod
// directory is read again every fileCheckFrequency. Upstream's go-yaml refuses both: `document
// contains excessive aliasing`, and `exceeded max depth of 10000` (flow levels and indents).

/**
 * The deepest nesting of collections accepted. Lower than go-yaml's 10000: the composer runs out
 * of Node's default stack after about 800 levels, and no kubelet file comes near 256.
 */
export const MAX_YAML_DEPTH = 256;

/** A YAML text refused for its shape (go-yaml's wording), before or while it is composed. */
export class YamlLimitError extends Error {
  readonly code = 'YAML_LIMIT';
}

const collectionTypes = new Set(['block-map', 'block-seq', 'flow-collection']);

/**
 * Throws YamlLimitError when a collection in `text` nests deeper than MAX_YAML_DEPTH. Reads the
 * concrete syntax tree, which the `yaml` package's parser builds without recursion, walking it
 * with a stack of its own.
 */
export function checkYamlDepth(text: string): void {
  for (const token of new Parser().parse(text)) {
    const stack: [unknown, number][] = [[token, 0]];
    while (stack.length > 0) {
      const [node, depth] = stack.pop()!;
      if (node === null || typeof node !== 'object') continue;
      const type = (node as { type?: unknown }).type;
      const here = typeof type === 'string' && collectionTypes.has(type) ? depth + 1 : depth;
      if (here > MAX_YAML_DEPTH) throw new YamlLimitError(`exceeded max depth of ${MAX_YAML_DEPTH}`);
      for (const child of Array.isArray(node) ? node : Object.values(node))
        if (child !== null && typeof child === 'object') stack.push([child, here]);
    }
  }
}

/** Whether `error` is the `yaml` package's refusal of too many aliases (maxAliasCount, 100). */
export function isExcessiveAliasing(error: unknown): boolean {
  return error instanceof ReferenceError && /excessive alias count/i.test(error.message);
}

/** Throws YamlLimitError when `value` (decoded JSON) nests deeper than MAX_YAML_DEPTH. */
function checkValueDepth(value: unknown): void {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth + 1 > MAX_YAML_DEPTH) throw new YamlLimitError(`exceeded max depth of ${MAX_YAML_DEPTH}`);
    for (const child of Array.isArray(node) ? node : Object.values(node)) stack.push([child, depth + 1]);
  }
}

/**
 * `text` decoded as JSON when it is a JSON object or array (V8's JSON.parse needs no recursion
 * and is many times faster than the `yaml` package on a large manifest), else undefined.
 */
function parseJsonDocument(text: string): { value: unknown } | undefined {
  const first = text.trimStart()[0];
  if (first !== '{' && first !== '[') return undefined;
  try {
    return { value: JSON.parse(text) };
  } catch {
    return undefined;
  }
}

/** `yaml`'s toJS, its alias refusal worded as go-yaml's. */
function composed<T>(compose: () => T): T {
  try {
    return compose();
  } catch (error) {
    if (isExcessiveAliasing(error)) throw new YamlLimitError('document contains excessive aliasing');
    throw error;
  }
}

/**
 * `yaml`'s parse with both limits: nesting deeper than MAX_YAML_DEPTH and excessive aliasing
 * throw YamlLimitError; other syntax errors are the `yaml` package's own. JSON is decoded as
 * JSON (YAML's superset gives the same value; a repeated key keeps its last value).
 */
export function parseBoundedYaml(text: string): unknown {
  const json = parseJsonDocument(text);
  if (json) {
    checkValueDepth(json.value);
    return json.value;
  }
  checkYamlDepth(text);
  return composed(() => parse(text));
}

/** Every document of a YAML stream as plain values, with parseBoundedYaml's limits; the first syntax error throws. */
export function parseBoundedYamlDocuments(text: string): unknown[] {
  const json = parseJsonDocument(text);
  if (json) {
    checkValueDepth(json.value);
    return [json.value];
  }
  checkYamlDepth(text);
  return parseAllDocuments(text).map((document) => {
    if (document.errors.length > 0) throw document.errors[0]!;
    return composed(() => document.toJS());
  });
}
