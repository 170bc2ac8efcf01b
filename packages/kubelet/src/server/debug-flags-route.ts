import type { IncomingMessage, ServerResponse } from 'node:http';
import { goParseInt } from '@nodeagent/primitives/go-text';

/** Applies a new log verbosity (klog's -v) to the running kubelet. */
export type VerbositySetter = (level: number) => void;

/** What upstream's flags handler writes: text/plain, no sniffing, the text and a newline. */
function writePlainText(response: ServerResponse, code: number, text: string): void {
  response.writeHead(code, { 'Content-Type': 'text/plain', 'X-Content-Type-Options': 'nosniff' });
  response.end(`${text}\n`);
}

/**
 * Upstream's GlogSetter: the body must be what klog's Level.Set takes (Go's ParseInt into 32
 * bits: `3`, `+3`, `-1`; not `3\n`), and the answer is its text either way.
 */
export function setKlogVerbosity(body: string, set: VerbositySetter): { ok: boolean; text: string } {
  const parsed = goParseInt(body, 32);
  if ('error' in parsed)
    return { ok: false, text: `failed set klog.logging.verbosity ${body}: ${parsed.error}` };
  set(Number(parsed.value));
  return { ok: true, text: `successfully set klog.logging.verbosity to ${body}` };
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * /debug/flags/v as upstream's StringFlagPutHandler(GlogSetter) answers it: PUT with the level
 * as the body sets the verbosity (200 `successfully set klog.logging.verbosity to <v>`), a body
 * that is not a number is 400 `failed set klog.logging.verbosity <v>: strconv.ParseInt: …`, any
 * other method 406 `unsupported http method`. `set` false is enableDebugFlagsHandler: false:
 * 405 `flags endpoint is disabled.` for every method.
 */
export async function serveDebugFlags(
  set: VerbositySetter | false,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  if (set === false) {
    // net/http's http.Error.
    response.writeHead(405, {
      'Content-Type': 'text/plain; charset=utf-8',
      'X-Content-Type-Options': 'nosniff',
    });
    response.end('flags endpoint is disabled.\n');
    return;
  }
  if (request.method !== 'PUT') return writePlainText(response, 406, 'unsupported http method');
  const answer = setKlogVerbosity(await readBody(request), set);
  writePlainText(response, answer.ok ? 200 : 400, answer.text);
}
