import type { IncomingMessage } from 'node:http';
import type { RequestTarget } from './go-serve-mux';

/** The most of a urlencoded body Go's ParseForm reads (10 MB); a larger one is left unparsed. */
const maxFormBody = 10 << 20;

/**
 * The most of a multipart body read here: Go's ReadForm keeps defaultMaxMemory (32 MB) plus
 * 10 MB of values in memory and spills file parts to disk; this reads no further and treats a
 * larger body as one it could not parse (only the query counts then).
 */
const maxMultipartBody = (32 << 20) + (10 << 20);

/** The body, or undefined past `limit` bytes (the rest is drained, not kept). */
async function boundedBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size <= limit) chunks.push(chunk as Buffer);
  }
  return size <= limit ? Buffer.concat(chunks) : undefined;
}

/**
 * A multipart/form-data body's first non-file value of `name`, as Go's ReadForm gives it; null
 * when the body has none or cannot be parsed (no boundary, malformed, too large), which Go's
 * FormValue ignores.
 */
async function multipartValue(request: IncomingMessage, contentType: string, name: string) {
  const body = await boundedBody(request, maxMultipartBody);
  if (!body) return null;
  try {
    const form = await new Response(body, { headers: { 'content-type': contentType } }).formData();
    // A part with a filename is a file (Go's MultipartForm.File), not a value.
    const value = form.getAll(name).find((entry) => typeof entry === 'string');
    return value ?? null;
  } catch {
    return null;
  }
}

/**
 * Go's Request.FormValue, which go-restful's QueryParameter is: for a POST, PUT or PATCH with
 * Content-Type application/x-www-form-urlencoded, the body's value of `name` wins over the
 * query's (`curl -d cmd=…` works); a multipart/form-data body's values come after the query's
 * (ParseMultipartForm appends them), so they count only where the query has none (`curl -F
 * cmd=…`); '' when nothing has it.
 */
export async function formValue(request: IncomingMessage, url: RequestTarget, name: string): Promise<string> {
  const contentType = request.headers['content-type'] ?? '';
  const type = contentType.split(';')[0]?.trim().toLowerCase();
  const hasBody = ['POST', 'PUT', 'PATCH'].includes(request.method ?? '');
  if (hasBody && type === 'application/x-www-form-urlencoded') {
    const body = await boundedBody(request, maxFormBody);
    const fromBody = body ? new URLSearchParams(body.toString('utf8')).get(name) : null;
    if (fromBody !== null) return fromBody;
  }
  const fromQuery = url.searchParams.get(name);
  if (fromQuery !== null) return fromQuery;
  if (type === 'multipart/form-data') return (await multipartValue(request, contentType, name)) ?? '';
  return '';
}
