import { goAtoi, goQuote } from '@nodeagent/primitives/go-text';
import { firstValue } from './go-query-values';
import { goRegexpSyntaxError } from './go-regexp-syntax';
import { type GoTime, goTimeString, parseRfc3339 } from './go-rfc3339';

// The node log query (?query=…) as upstream v1.36 parses and validates it
// (pkg/kubelet/kubelet_server_journal.go newNodeLogQuery, validateServices, nodeLogQuery.validate),
// each problem worded as apimachinery's field.Error prints it and several joined as its
// aggregate (`[a, b]`, duplicates once).

/** Upstream's maxTailLines, maxServiceLength and maxServices. */
const maxTailLines = 100000;
const maxServiceLength = 256;
const maxServices = 4;

/** The characters a service name may hold (reServiceNameUnsafeCharacters' complement). */
const safeServiceName = /^[a-zA-Z\-_.:0-9@]*$/;

/** The options a service query may carry; a file query may carry none. */
export interface NodeLogQueryOptions {
  sinceTime?: GoTime;
  untilTime?: GoTime;
  tailLines?: number;
  boot?: number;
  pattern: string;
}

/** A parsed query: the services and files it names and its options. */
export interface NodeLogQuery extends NodeLogQueryOptions {
  services: string[];
  files: string[];
}

/** Whether any option is set (upstream's `n.options != (options{})`). */
export function hasOptions(q: NodeLogQueryOptions): boolean {
  return (
    q.sinceTime !== undefined ||
    q.untilTime !== undefined ||
    q.tailLines !== undefined ||
    q.boot !== undefined ||
    q.pattern !== ''
  );
}

/** field.Invalid's text: `<field>: Invalid value: <value>: <detail>`, the value as Go prints it. */
function invalid(field: string, value: string, detail: string): string {
  return `${field}: Invalid value: ${value}: ${detail}`;
}

/** Go's %#v of a []string: `[]string{"a", "b"}`. */
function goStringSlice(values: readonly string[]): string {
  return `[]string{${values.map(goQuote).join(', ')}}`;
}

/** Go's %v of a []string: `[a b]`. */
export function goSliceText(values: readonly string[]): string {
  return `[${values.join(' ')}]`;
}

/** An RFC 3339 time parameter: parsed, or its `invalid time format` problem. */
function timeParameter(values: Map<string, string[]>, name: string, errors: string[]): GoTime | undefined {
  const text = firstValue(values, name);
  if (text === '') return undefined;
  const parsed = parseRfc3339(text);
  if (!parsed) errors.push(invalid(name, goQuote(text), 'invalid time format'));
  return parsed;
}

/** An integer parameter: parsed, or its strconv.Atoi problem. */
function intParameter(values: Map<string, string[]>, name: string, errors: string[]): number | undefined {
  const text = firstValue(values, name);
  if (text === '') return undefined;
  const parsed = goAtoi(text);
  if ('error' in parsed) errors.push(invalid(name, goQuote(text), parsed.error));
  return 'value' in parsed ? parsed.value : undefined;
}

/**
 * newNodeLogQuery: a `query` value holding `/` or `\` names a file, any other non-blank one a
 * service; the options parsed. Errors are the 400 answer; no query and no errors means the
 * request is not a query at all (the file server answers it).
 */
export function parseNodeLogQuery(values: Map<string, string[]>): { query?: NodeLogQuery; errors: string[] } {
  const errors: string[] = [];
  const queries = values.get('query');
  const services: string[] = [];
  const files: string[] = [];
  for (const q of queries ?? []) {
    if (/[/\\]/.test(q)) files.push(q);
    else if (q.trim() !== '') services.push(q);
  }
  if (queries !== undefined && services.length === 0 && files.length === 0)
    errors.push(invalid('query', goStringSlice(queries), 'query cannot be empty'));
  const sinceTime = timeParameter(values, 'sinceTime', errors);
  const untilTime = timeParameter(values, 'untilTime', errors);
  const boot = intParameter(values, 'boot', errors);
  const tailLines = intParameter(values, 'tailLines', errors);
  const pattern = firstValue(values, 'pattern');
  if (errors.length > 0) return { errors };
  const query: NodeLogQuery = { services, files, sinceTime, untilTime, tailLines, boot, pattern };
  if (services.length === 0 && files.length === 0 && !hasOptions(query)) return { errors };
  return { query, errors };
}

/** validateServices: each name's length and characters, then how many there are. */
function serviceProblems(services: readonly string[]): string[] {
  const errors: string[] = [];
  for (const s of services) {
    // Upstream's text says 100 although the limit is 256 bytes.
    if (Buffer.byteLength(s) > maxServiceLength)
      errors.push(invalid('query', goQuote(s), 'length must be less than 100'));
    else if (!safeServiceName.test(s))
      errors.push(invalid('query', goQuote(s), 'input contains unsupported characters'));
  }
  if (services.length > maxServices)
    errors.push(`query: Too many: ${services.length}: must have at most ${maxServices} items`);
  return errors;
}

/**
 * nodeLogQuery.validate: the 406 answer's problems. `statFile` is os.Stat of the file a file
 * query names under the log directory: undefined when it exists, else Go's error text.
 */
export async function validateNodeLogQuery(
  q: NodeLogQuery,
  statFile: (file: string) => Promise<string | undefined>,
): Promise<string[]> {
  const errors = serviceProblems(q.services);
  const { files, services } = q;
  if (files.length === 0 && services.length === 0)
    errors.push('query: Required value: cannot be empty with options');
  else if (files.length > 0 && services.length > 0)
    errors.push(
      invalid(
        'query',
        goQuote(`${goSliceText(files)}, ${goSliceText(services)}`),
        'cannot specify a file and service',
      ),
    );
  else if (files.length > 1)
    errors.push(invalid('query', goStringSlice(files), 'cannot specify more than one file'));
  else if (files.length === 1 && hasOptions(q))
    errors.push(invalid('query', goStringSlice(files), 'cannot specify file with options'));
  else if (files.length === 1) {
    const problem = await statFile(files[0] as string);
    if (problem !== undefined) errors.push(invalid('query', goStringSlice(files), problem));
  }
  if (q.sinceTime && q.untilTime && q.sinceTime.instant > q.untilTime.instant)
    errors.push(invalid('untilTime', goTimeString(q.untilTime), 'must be after `sinceTime`'));
  if (q.boot !== undefined && q.boot > 0) errors.push(invalid('boot', String(q.boot), 'must be less than 1'));
  if (q.tailLines !== undefined && (q.tailLines < 0 || q.tailLines > maxTailLines))
    errors.push(
      invalid('tailLines', String(q.tailLines), `must be between 0 and ${maxTailLines}, inclusive`),
    );
  const patternProblem = goRegexpSyntaxError(q.pattern);
  if (patternProblem !== undefined) errors.push(invalid('pattern', goQuote(q.pattern), patternProblem));
  return errors;
}
