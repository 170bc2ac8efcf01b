import type { IncomingMessage } from 'node:http';

/** The most of a urlencoded body Go's ParseForm reads (10 MB); a larger one is left unparsed. */
const maxFormBody = 10 << 20;

/**
 * Go's Request.FormValue, which go-restful's QueryParameter is: for a POST, PUT or PATCH with
 * Content-Type application/x-www-form-urlencoded, the body's value of `name` wins over the
 * query's (`curl -d cmd=…` works); otherwise the query's first value; '' when neither has it.
 * Multipart bodies are not read.
 */
export async function formValue(request: IncomingMessage, url: URL, name: string): Promise<string> {
  const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  const hasBody = ['POST', 'PUT', 'PATCH'].includes(request.method ?? '');
  if (hasBody && type === 'application/x-www-form-urlencoded') {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request) {
      size += (chunk as Buffer).length;
      if (size <= maxFormBody) chunks.push(chunk as Buffer);
    }
    const fromBody =
      size <= maxFormBody ? new URLSearchParams(Buffer.concat(chunks).toString('utf8')).get(name) : null;
    if (fromBody !== null) return fromBody;
  }
  return url.searchParams.get(name) ?? '';
}
