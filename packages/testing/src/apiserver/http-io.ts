import { ApiError, badRequest } from './api-error';
import type { ApiRequest, ApiResponse } from './http-exchange';
import { decodeProtobufObject, PROTOBUF_CONTENT_TYPE } from './protobuf-body';

// The API server's wire helpers: request bodies in (bounded, JSON or protobuf), JSON answers out,
// and the integer query parameters every handler reads the same way.

/** kube-apiserver's request body limit (3 MiB): a larger body gets 413. */
const MAX_BODY = 3 * 1024 * 1024;

function readRawBody(req: ApiRequest): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY)
        reject(new ApiError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The request body as UTF-8 text (patches, delete options, subresource bodies). */
export async function readBody(req: ApiRequest): Promise<string> {
  return (await readRawBody(req)).toString('utf8');
}

/** A request body object: JSON, or protobuf for what kubectl's generators send that way. */
export async function readObject(req: ApiRequest): Promise<unknown> {
  const raw = await readRawBody(req);
  if (String(req.headers['content-type'] ?? '').startsWith(PROTOBUF_CONTENT_TYPE))
    return decodeProtobufObject(raw);
  return parseJson(raw.toString('utf8'));
}

/** JSON text parsed, or the 400 kube-apiserver answers for a body it cannot decode. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw badRequest(
      `the body of the request was in an unknown format: couldn't get version/kind; json parse error: ${(err as Error).message}`,
    );
  }
}

/** Answers `code` with `body` as JSON, each warning as a `Warning: 299 - "…"` header. */
export function sendJson(res: ApiResponse, code: number, body: unknown, warnings: string[] = []): void {
  const text = JSON.stringify(body);
  const headers: Record<string, string | string[]> = {
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(text)),
  };
  if (warnings.length > 0) headers.Warning = warnings.map((w) => `299 - ${JSON.stringify(w)}`);
  res.writeHead(code, headers);
  res.end(text);
}

/** A non-negative integer query parameter; absent or empty is undefined, anything else a 400. */
export function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw badRequest(`invalid value for ${name}: ${v}`);
  return n;
}
