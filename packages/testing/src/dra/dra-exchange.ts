/**
 * A recorded DRA kubelet-plugin exchange (fidelity/node-plugins-v1.36/dra-test-driver-exchange.txt:
 * upstream's nonblockinggrpcserver log lines) and the shape both sides are compared in.
 *
 * Go logs each message in protobuf text format, which leaves proto3 default values out and does
 * not say which fields are repeated. The comparable shape ("canonical") therefore makes every
 * field a list of values (a message is an object of such lists, a map entry `{key, value}`), keys
 * in snake_case, defaults dropped: a parsed recording and a decoded gRPC message meet there.
 */

/** A message in the comparable shape: each field name → its values in order. */
export type CanonicalMessage = { [field: string]: CanonicalValue[] };
/** A scalar as the text format writes it (strings unquoted, numbers and booleans as text). */
export type CanonicalValue = string | CanonicalMessage;

/** One call of a recorded or live exchange, in the recording's terms. */
export interface DraExchangeEntry {
  /** `registrar` (plugin registration) or `dra` (the DRA and health services). */
  logger: 'registrar' | 'dra';
  /** `/k8s.io.kubelet.pkg.apis.dra.v1.DRAPlugin/NodePrepareResources` */
  method: string;
  /** Unary calls: the request and answer; a stream has neither. */
  request?: CanonicalMessage;
  response?: CanonicalMessage;
  /** True for a stream (the health service's NodeWatchResources). */
  stream?: boolean;
}

/** Parse Go's protobuf text format (`claims:{namespace:"default"  uid:"..."}`) into the canonical shape. */
export function parseProtoText(text: string): CanonicalMessage {
  let i = 0;
  const skip = () => {
    while (i < text.length && /\s/.test(text[i] as string)) i++;
  };
  function message(end: string | undefined): CanonicalMessage {
    const out: CanonicalMessage = {};
    for (;;) {
      skip();
      if (i >= text.length || (end !== undefined && text[i] === end)) {
        if (end !== undefined) i++;
        return out;
      }
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i))?.[0];
      if (!name)
        throw new SyntaxError(`protobuf text: a field name expected at ${i}: ${text.slice(i, i + 20)}`);
      i += name.length;
      skip();
      if (text[i] === ':') i++;
      skip();
      let value: CanonicalValue;
      if (text[i] === '{') {
        i++;
        value = message('}');
      } else if (text[i] === '"') {
        let s = '';
        i++;
        while (i < text.length && text[i] !== '"') {
          if (text[i] === '\\') i++;
          s += text[i];
          i++;
        }
        i++;
        value = s;
      } else {
        const token = /^[^\s{}]+/.exec(text.slice(i))?.[0] ?? '';
        i += token.length;
        value = token;
      }
      const values = out[name] ?? [];
      values.push(value);
      out[name] = values;
    }
  }
  return message(undefined);
}

const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * A decoded message (protobufjs objects: camelCase keys, maps as objects) in the canonical shape.
 * `mapFields` names the fields (camelCase) that are protobuf maps, whose entries become
 * `{key, value}` messages as the text format writes them.
 */
export function canonicalMessage(value: object, mapFields: readonly string[] = ['claims']): CanonicalMessage {
  const out: CanonicalMessage = {};
  for (const [k, v] of Object.entries(value)) {
    const name = snake(k);
    let values: CanonicalValue[];
    if (mapFields.includes(k) && v && typeof v === 'object' && !Array.isArray(v)) {
      values = Object.entries(v).map(([key, entry]) => {
        const e: CanonicalMessage = { key: [key] };
        const inner = canonicalMessage((entry ?? {}) as object, mapFields);
        // An empty message value is still written (`value:{}`), as Go writes a non-nil map value.
        e.value = [inner];
        return e;
      });
    } else {
      values = (Array.isArray(v) ? v : [v]).flatMap((x): CanonicalValue[] => {
        if (x === undefined || x === null || x === '' || x === false || x === 0) return [];
        if (typeof x === 'object') return [canonicalMessage(x as object, mapFields)];
        return [String(x)];
      });
    }
    if (values.length > 0) out[name] = values;
  }
  return out;
}

/** The log lines of a recorded exchange, in order, as entries (a stream's end line adds nothing). */
export function parseDraExchange(text: string): DraExchangeEntry[] {
  const byId = new Map<string, DraExchangeEntry>();
  const out: DraExchangeEntry[] = [];
  const unquote = (s: string) => JSON.parse(`"${s}"`) as string;
  for (const line of text.split('\n')) {
    const m =
      /"(handling (?:request|stream)(?: succeeded)?)" logger="(\w+)" requestID=(\d+) method="([^"]+)"(?: (request|response)="((?:[^"\\]|\\.)*)")?/.exec(
        line,
      );
    if (!m) continue;
    const [, what, logger, id, method, side, body] = m as unknown as [
      string,
      string,
      string,
      string,
      string,
      string?,
      string?,
    ];
    let entry = byId.get(id);
    if (!entry) {
      entry = { logger: logger as DraExchangeEntry['logger'], method };
      if (what.startsWith('handling stream')) entry.stream = true;
      byId.set(id, entry);
      out.push(entry);
    }
    if (side === 'request') entry.request = parseProtoText(unquote(body ?? ''));
    if (side === 'response') entry.response = parseProtoText(unquote(body ?? ''));
  }
  return out;
}
