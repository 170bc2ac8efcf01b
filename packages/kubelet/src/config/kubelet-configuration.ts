import { valueAtPath } from '@nodeagent/primitives';
import { InvalidConfigError } from '../errors';
import {
  buildKubeletConfigurationSchema,
  type KubeletConfiguration,
  type KubeletConfigurationInput,
  type KubeletConfigurationSchema,
  kubeletConfigurationApiVersion,
  kubeletConfigurationKind,
} from './configuration-fields';
import { crossFieldErrors } from './configuration-rules';
import { checkFeatureGates, withHonouredGateValues } from './feature-gate-rules';
import { applyFeatureGatedDefaults } from './feature-gated-defaults';
import { unknownFieldPaths } from './unknown-fields';
import { applyV1beta1ZeroDefaults, defaultEvictionHard } from './v1beta1-defaults';

export {
  buildKubeletConfigurationSchema,
  defaultEvictionHard,
  type KubeletConfiguration,
  type KubeletConfigurationInput,
  type KubeletConfigurationSchema,
  kubeletConfigurationApiVersion,
  kubeletConfigurationKind,
};

/**
 * The schema the parser uses: reused while something still holds it (the several parses of a
 * start: defaults, the file, drop-ins, flags), built again once the GC took it.
 */
let schemaRef: WeakRef<KubeletConfigurationSchema> | undefined;
function configurationSchema(): KubeletConfigurationSchema {
  let schema = schemaRef?.deref();
  if (!schema) {
    schema = buildKubeletConfigurationSchema();
    schemaRef = new WeakRef(schema);
  }
  return schema;
}

/**
 * zod's parse without its compiled fast path: on an object schema's first parse zod writes a
 * parser for its shape and compiles it (`new Function`), which pays back over many parses; the
 * kubelet parses its configuration once or twice per start, so each compile was start-up time
 * for nothing (issue #51). Same results either way.
 */
const ONCE_PARSE = { jitless: true } as const;

/** The result of parseKubeletConfiguration: the defaulted, validated configuration and what it ignored. */
export interface ParsedKubeletConfiguration {
  /** The configuration with upstream's defaults filled in. */
  config: KubeletConfiguration;
  /**
   * Fields present in the input that this kubelet does not know, at any depth (`foo`,
   * `authentication.anonymus`): upstream only warns on these.
   */
  unknownFields: string[];
}

/** Upstream's defaults: what a file containing only apiVersion and kind yields. */
export function defaultKubeletConfiguration(): KubeletConfiguration {
  return parseKubeletConfiguration({}).config;
}

/** How parseKubeletConfiguration treats its input. */
export interface ParseKubeletConfigurationOptions {
  /**
   * Apply upstream's v1beta1 zero-value defaulting first (`0s`, `""`, `0`, null mean "use the
   * default"), as decoding a file does. Default true; false validates the values as given
   * (flags applied on top of a defaulted configuration).
   */
  zeroValueDefaults?: boolean;
}

/**
 * Defaults and validates a decoded KubeletConfiguration object. Throws InvalidConfigError naming
 * the first offending field and value; `error.causes` lists every problem found.
 */
export function parseKubeletConfiguration(
  input: unknown,
  options: ParseKubeletConfigurationOptions = {},
): ParsedKubeletConfiguration {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new InvalidConfigError('KubeletConfiguration', input, 'must be an object');
  }
  if (options.zeroValueDefaults !== false) input = applyV1beta1ZeroDefaults(input as Record<string, unknown>);
  const schema = configurationSchema();
  const result = schema.safeParse(input, ONCE_PARSE);
  if (!result.success) {
    const causes = result.error.issues.map((issue) => {
      const field = formatPath(issue.path);
      return new InvalidConfigError(
        field || 'KubeletConfiguration',
        valueAtPath(input, issue.path),
        issue.message,
      );
    });
    // Every problem at once, as upstream's aggregate: the rules across fields are checked too,
    // on the configuration with the fields already found wrong left at their defaults, and
    // each field is blamed once.
    const repaired = withoutPaths(
      input,
      result.error.issues.map((issue) => issue.path),
    );
    const rest = schema.safeParse(repaired, ONCE_PARSE);
    if (rest.success) {
      const blamed = new Set(causes.map((cause) => cause.field));
      for (const problem of crossFieldErrors(rest.data))
        if (!problem.fields.some((field) => blamed.has(field))) causes.push(problem.error);
    }
    throw withCauses(causes);
  }
  const config = result.data;
  // Upstream checks featureGates first and returns that error alone.
  checkFeatureGates(config.featureGates);
  // Before validation, as upstream defaults a decoded file before it validates it.
  applyFeatureGatedDefaults(config);
  const causes = crossFieldErrors(config).map((problem) => problem.error);
  if (causes.length > 0) throw withCauses(causes);
  config.featureGates = withHonouredGateValues(config.featureGates);
  return { config, unknownFields: unknownFieldPaths(schema, input) };
}

/**
 * One error for several problems: field, value and reason are the first one's; the message
 * lists every problem once, each with its own value, like upstream's aggregated errors.
 */
function withCauses(causes: InvalidConfigError[]): InvalidConfigError {
  const first = causes[0]!;
  const error = new InvalidConfigError(first.field, first.value, first.reason, causes);
  if (causes.length > 1) error.message = causes.map((cause) => cause.message).join('; ');
  return error;
}

/** A copy of `input` without the values at `paths` (so the schema's defaults stand in for them). */
function withoutPaths(input: unknown, paths: readonly (readonly PropertyKey[])[]): unknown {
  const out = structuredClone(input) as Record<PropertyKey, unknown>;
  for (const path of paths) {
    if (path.length === 0) continue;
    let at: unknown = out;
    for (const key of path.slice(0, -1)) at = (at as Record<PropertyKey, unknown> | undefined)?.[key];
    if (at === null || typeof at !== 'object') continue;
    const last = path[path.length - 1]!;
    // A bad list element drops the list; anything else drops the key.
    if (Array.isArray(at)) delete out[path[0]!];
    else delete (at as Record<PropertyKey, unknown>)[last];
  }
  return out;
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}
