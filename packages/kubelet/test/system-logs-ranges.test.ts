import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRange } from '../src/server/byte-ranges';
import { serveSystemLogs } from '../src/server/system-logs-route';

// /logs/ files answered as net/http's serveContent answers them (golang/go src/net/http/fs.go:
// parseRange, checkPreconditions, the single-range and multipart/byteranges branches; Go 1.23+
// drops Last-Modified from an error answer). The files' times are set, not read from a clock.

const CONTENT = '0123456789abcdef\n';
const MTIME = new Date('2026-01-02T03:04:05.678Z');
const LAST_MODIFIED = 'Fri, 02 Jan 2026 03:04:05 GMT';

let dir: string;
let server: Server;
let port: number;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), `na-logs-ranges-${process.pid}-`));
  await mkdir(join(dir, 'pods'));
  await writeFile(join(dir, 'syslog'), CONTENT);
  await writeFile(join(dir, 'empty.log'), '');
  for (const path of ['syslog', 'empty.log', 'pods']) await utimes(join(dir, path), MTIME, MTIME);
  server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://node');
    const target = {
      pathname: url.pathname,
      escapedPathname: url.pathname,
      search: url.search,
      searchParams: url.searchParams,
    };
    void serveSystemLogs({ dir, query: false }, target, request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

function get(path: string, headers: Record<string, string> = {}) {
  return new Promise<{
    status: number;
    body: string;
    headers: Record<string, string | string[] | undefined>;
  }>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('parseRange', () => {
  it('reads first-last, first- and -suffix specs, clamps to the size, and words its two errors', () => {
    expect(parseRange('bytes=0-3, 10-, -4', 17)).toEqual({
      ranges: [
        { start: 0, length: 4 },
        { start: 10, length: 7 },
        { start: 13, length: 4 },
      ],
    });
    expect(parseRange('bytes=5-999,-999', 17)).toEqual({
      ranges: [
        { start: 5, length: 12 },
        { start: 0, length: 17 },
      ],
    });
    expect(parseRange('bytes=17-,20-30', 17)).toEqual({ error: 'invalid range: failed to overlap' });
    expect(parseRange('bytes=17-,2-3', 17)).toEqual({ ranges: [{ start: 2, length: 2 }] });
    for (const bad of ['items=0-1', 'bytes=1', 'bytes=3-1', 'bytes=--1', 'bytes=-', 'bytes=a-b'])
      expect(parseRange(bad, 17)).toEqual({ error: 'invalid range' });
  });
});

describe('/logs/ file ranges', () => {
  it('advertises byte ranges and the modification time on a whole file', async () => {
    const r = await get('/logs/syslog');
    expect(r.status).toBe(200);
    expect(r.body).toBe(CONTENT);
    expect(r.headers).toMatchObject({
      'accept-ranges': 'bytes',
      'content-length': '17',
      'last-modified': LAST_MODIFIED,
    });
  });

  it('answers one range 206 with Content-Range', async () => {
    const r = await get('/logs/syslog', { Range: 'bytes=-5' });
    expect([r.status, r.body, r.headers['content-range'], r.headers['content-length']]).toEqual([
      206,
      'cdef\n',
      'bytes 12-16/17',
      '5',
    ]);
  });

  it('answers several ranges 206 multipart/byteranges, each part with its Content-Range', async () => {
    const r = await get('/logs/syslog', { Range: 'bytes=0-1,10-11' });
    expect(r.status).toBe(206);
    const boundary = /^multipart\/byteranges; boundary=([0-9a-f]{60})$/.exec(
      String(r.headers['content-type']),
    )?.[1];
    expect(boundary).toBeDefined();
    expect(r.body).toBe(
      `--${boundary}\r\nContent-Range: bytes 0-1/17\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n01` +
        `\r\n--${boundary}\r\nContent-Range: bytes 10-11/17\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nab` +
        `\r\n--${boundary}--\r\n`,
    );
    expect(r.headers['content-length']).toBe(String(Buffer.byteLength(r.body, 'latin1')));
  });

  it('answers 416 for ranges past the end or malformed, without Last-Modified', async () => {
    const past = await get('/logs/syslog', { Range: 'bytes=17-' });
    expect([past.status, past.body, past.headers['content-range']]).toEqual([
      416,
      'invalid range: failed to overlap\n',
      'bytes */17',
    ]);
    expect(past.headers['last-modified']).toBeUndefined();
    const bad = await get('/logs/syslog', { Range: 'bytes=9-2' });
    expect([bad.status, bad.body, bad.headers['content-range']]).toEqual([416, 'invalid range\n', undefined]);
  });

  it('sends it all for an empty file asked past its end, and for ranges larger than the file', async () => {
    expect(await get('/logs/empty.log', { Range: 'bytes=0-' })).toMatchObject({ status: 200, body: '' });
    expect(await get('/logs/syslog', { Range: 'bytes=0-,0-' })).toMatchObject({ status: 200, body: CONTENT });
  });
});

describe('/logs/ conditional requests', () => {
  it('answers 304 when not modified since, with Last-Modified and no body', async () => {
    const r = await get('/logs/syslog', { 'If-Modified-Since': LAST_MODIFIED });
    expect([r.status, r.body, r.headers['last-modified'], r.headers['content-type']]).toEqual([
      304,
      '',
      LAST_MODIFIED,
      undefined,
    ]);
    expect(await get('/logs/syslog', { 'If-Modified-Since': 'Fri, 02 Jan 2026 03:04:04 GMT' })).toMatchObject(
      { status: 200 },
    );
    // RFC 850 and asctime dates are read too; an unreadable date is ignored.
    expect(
      await get('/logs/syslog', { 'If-Modified-Since': 'Friday, 02-Jan-26 03:04:05 GMT' }),
    ).toMatchObject({ status: 304 });
    expect(await get('/logs/syslog', { 'If-Modified-Since': 'Fri Jan  2 03:04:05 2026' })).toMatchObject({
      status: 304,
    });
    expect(await get('/logs/syslog', { 'If-Modified-Since': 'yesterday' })).toMatchObject({ status: 200 });
    expect(await get('/logs/pods/', { 'If-Modified-Since': LAST_MODIFIED })).toMatchObject({ status: 304 });
    // A listing honours If-Modified-Since only (serveFile checks nothing else for a directory).
    const listing = await get('/logs/pods/', { 'If-Unmodified-Since': 'Thu, 01 Jan 2026 00:00:00 GMT' });
    expect(listing.status).toBe(200);
  });

  it('answers 412 when modified after If-Unmodified-Since, and If-None-Match wins over If-Modified-Since', async () => {
    expect(
      await get('/logs/syslog', { 'If-Unmodified-Since': 'Thu, 01 Jan 2026 00:00:00 GMT' }),
    ).toMatchObject({ status: 412 });
    expect(await get('/logs/syslog', { 'If-Unmodified-Since': LAST_MODIFIED })).toMatchObject({
      status: 200,
    });
    expect(await get('/logs/syslog', { 'If-Match': '"x"' })).toMatchObject({ status: 412 });
    expect(
      await get('/logs/syslog', { 'If-None-Match': '"x"', 'If-Modified-Since': LAST_MODIFIED }),
    ).toMatchObject({ status: 200 });
    expect(await get('/logs/syslog', { 'If-None-Match': '*' })).toMatchObject({ status: 304 });
  });

  it('honours a range only when If-Range names the modification time', async () => {
    expect(await get('/logs/syslog', { Range: 'bytes=0-0', 'If-Range': LAST_MODIFIED })).toMatchObject({
      status: 206,
      body: '0',
    });
    const stale = { Range: 'bytes=0-0', 'If-Range': 'Thu, 01 Jan 2026 00:00:00 GMT' };
    expect(await get('/logs/syslog', stale)).toMatchObject({ status: 200, body: CONTENT });
    expect(await get('/logs/syslog', { Range: 'bytes=0-0', 'If-Range': '"etag"' })).toMatchObject({
      status: 200,
    });
  });
});
