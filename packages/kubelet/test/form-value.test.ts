import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formValue } from '../src/server/form-value';

// Go's Request.FormValue (net/http request.go: ParseMultipartForm, ParseForm), which go-restful's
// QueryParameter calls and upstream's /run reads `cmd` with.

let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://kubelet');
    formValue(request, url, 'cmd').then((value) => response.end(JSON.stringify(value)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function cmdOf(path: string, init: RequestInit): Promise<string> {
  return JSON.parse(await (await fetch(`${base}${path}`, { method: 'POST', ...init })).text());
}

const boundary = 'na-boundary-48';
const multipart = { 'Content-Type': `multipart/form-data; boundary=${boundary}` };
function parts(...fields: string[]): string {
  return `${fields.map((field) => `--${boundary}\r\n${field}\r\n`).join('')}--${boundary}--\r\n`;
}
const value = (name: string, text: string) => `Content-Disposition: form-data; name="${name}"\r\n\r\n${text}`;

describe("formValue (Go's FormValue)", () => {
  it('reads a multipart/form-data value, the first of several, files not counted', async () => {
    expect(await cmdOf('/', { headers: multipart, body: parts(value('cmd', 'echo multi')) })).toBe(
      'echo multi',
    );
    expect(await cmdOf('/', { headers: multipart, body: parts(value('cmd', 'a'), value('cmd', 'b')) })).toBe(
      'a',
    );
    const file =
      'Content-Disposition: form-data; name="cmd"; filename="c.sh"\r\nContent-Type: text/plain\r\n\r\nls';
    expect(await cmdOf('/', { headers: multipart, body: parts(file) })).toBe('');
    expect(await cmdOf('/', { headers: multipart, body: parts(file, value('cmd', 'ls -l')) })).toBe('ls -l');
  });

  it("puts multipart values after the query's (ParseMultipartForm appends them), urlencoded ones before", async () => {
    expect(await cmdOf('/?cmd=query', { headers: multipart, body: parts(value('cmd', 'multi')) })).toBe(
      'query',
    );
    const urlencoded = { 'Content-Type': 'application/x-www-form-urlencoded' };
    expect(await cmdOf('/?cmd=query', { headers: urlencoded, body: 'cmd=body' })).toBe('body');
  });

  it('ignores a multipart body it cannot parse, as FormValue drops the error', async () => {
    const noBoundary = { 'Content-Type': 'multipart/form-data' };
    expect(await cmdOf('/', { headers: noBoundary, body: parts(value('cmd', 'x')) })).toBe('');
    expect(await cmdOf('/', { headers: multipart, body: 'not multipart at all' })).toBe('');
    const mixed = { 'Content-Type': `multipart/mixed; boundary=${boundary}` };
    expect(await cmdOf('/', { headers: mixed, body: parts(value('cmd', 'x')) })).toBe('');
  });

  it('keeps no more than 42 MiB of a multipart body: a larger one counts as unparsable', async () => {
    const filler = 'x'.repeat((42 << 20) + 1);
    const body = parts(value('cmd', 'big'), value('pad', filler));
    // Go's ReadForm refuses it too: a value past maxMemory plus 10 MB is ErrMessageTooLarge.
    expect(await cmdOf('/', { headers: multipart, body })).toBe('');
  });
});
