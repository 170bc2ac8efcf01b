import type { FileHandle } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ByteRange, byteRangesFraming, contentRange, parseRange } from './byte-ranges';
import { httpDate, parseHttpDate } from './go-http-date';
import { writeGoHttpError } from './go-net-http';

// An opened log file answered as net/http's serveContent answers it (fs.go, Go 1.23 and later):
// Last-Modified, the RFC 7232 preconditions (If-Unmodified-Since 412, If-Modified-Since 304;
// no ETag is ever set, so If-Match and If-None-Match only ever fail or never match), Range with
// If-Range, 206 with Content-Range for one range, multipart/byteranges for several, 416 for
// ranges that are malformed or all start past the end, Accept-Ranges: bytes.

/** checkIfModifiedSince / checkIfUnmodifiedSince on a GET: whether the header's date holds. */
function notModifiedSince(header: string | undefined, mtimeSeconds: number): boolean {
  const since = header ? parseHttpDate(header) : undefined;
  return since !== undefined && mtimeSeconds * 1000 <= since;
}

/** A directory listing's only precondition (serveFile): If-Modified-Since, answered 304. */
export function directoryNotModified(
  request: IncomingMessage,
  response: ServerResponse,
  mtimeMs: number,
): boolean {
  const mtimeSeconds = Math.floor(mtimeMs / 1000);
  if (mtimeSeconds === 0 || !notModifiedSince(request.headers['if-modified-since'], mtimeSeconds))
    return false;
  response.writeHead(304).end();
  return true;
}

/**
 * checkPreconditions for a GET without an ETag: `done` when it answered 412 or 304, else the
 * Range header left to honour (dropped when If-Range does not match).
 */
export function checkPreconditions(
  request: IncomingMessage,
  response: ServerResponse,
  mtimeMs: number,
): { done: true } | { done: false; range: string } {
  const headers = request.headers;
  const mtimeSeconds = Math.floor(mtimeMs / 1000);
  const known = mtimeSeconds !== 0;
  // If-Match only matches `*` (there is no ETag); without it, If-Unmodified-Since.
  const ifMatch = headers['if-match'];
  const unmodified = headers['if-unmodified-since'];
  const precondition = ifMatch
    ? ifMatch.split(',').some((v) => v.trim() === '*')
    : !(
        known &&
        unmodified &&
        parseHttpDate(unmodified) !== undefined &&
        !notModifiedSince(unmodified, mtimeSeconds)
      );
  if (!precondition) {
    response.writeHead(412).end();
    return { done: true };
  }
  const ifNoneMatch = headers['if-none-match'];
  const noneMatchFails = ifNoneMatch !== undefined && /^[\s,]*\*/.test(ifNoneMatch);
  if (
    noneMatchFails ||
    (!ifNoneMatch && known && notModifiedSince(headers['if-modified-since'], mtimeSeconds))
  ) {
    response.writeHead(304).end();
    return { done: true };
  }
  const range = headers.range ?? '';
  const ifRange = [headers['if-range'] ?? []].flat()[0];
  if (range === '' || ifRange === undefined || ifRange === '') return { done: false, range };
  // An ETag in If-Range never matches; a date matches the modification second exactly.
  const date = /^\s*(W\/)?"/.test(ifRange) || !known ? undefined : parseHttpDate(ifRange);
  return { done: false, range: date !== undefined && date / 1000 === mtimeSeconds ? range : '' };
}

/** Sends `length` bytes of the file from `start`, waiting for the client to take them. */
async function sendBytes(handle: FileHandle, start: number, length: number, response: ServerResponse) {
  if (length <= 0) return;
  const stream = handle.createReadStream({ start, end: start + length - 1, autoClose: false });
  await new Promise<void>((resolve, reject) => {
    stream.on('error', reject);
    stream.on('end', resolve);
    response.on('close', resolve);
    stream.pipe(response, { end: false });
  });
}

/** Writes text and waits for it to be taken. */
const sendText = (response: ServerResponse, text: string) =>
  new Promise<void>((resolve) => response.write(text, () => resolve()));

/**
 * serveContent for an opened regular file of `size` bytes whose sniffed type is `contentType`
 * (`lastModified` is already set on the response).
 */
export async function serveFileContent(
  request: IncomingMessage,
  response: ServerResponse,
  file: { handle: FileHandle; size: number; mtimeMs: number; contentType: string },
): Promise<void> {
  const { handle, size, contentType } = file;
  response.setHeader('Last-Modified', httpDate(file.mtimeMs));
  const preconditions = checkPreconditions(request, response, file.mtimeMs);
  if (preconditions.done) return;
  const parsed = parseRange(preconditions.range, size);
  let ranges: ByteRange[] = [];
  if ('error' in parsed && !(parsed.error.endsWith('overlap') && size === 0)) {
    // Go 1.23+ drops Last-Modified from an error answer; the unsatisfied length stays.
    response.removeHeader('Last-Modified');
    if (parsed.error.endsWith('overlap')) response.setHeader('Content-Range', `bytes */${size}`);
    return writeGoHttpError(response, 416, parsed.error);
  }
  if ('ranges' in parsed) ranges = parsed.ranges;
  // More bytes asked for than the file holds: an attack or a confused client; send it all.
  if (ranges.reduce((n, r) => n + r.length, 0) > size) ranges = [];
  response.setHeader('Accept-Ranges', 'bytes');
  if (ranges.length === 1) {
    const [range] = ranges as [ByteRange];
    response.writeHead(206, {
      'Content-Type': contentType,
      'Content-Range': contentRange(range, size),
      'Content-Length': String(range.length),
    });
    await sendBytes(handle, range.start, range.length, response);
  } else if (ranges.length > 1) {
    const framing = byteRangesFraming(ranges, contentType, size);
    response.writeHead(206, {
      'Content-Type': `multipart/byteranges; boundary=${framing.boundary}`,
      'Content-Length': String(framing.size),
    });
    for (const [i, range] of ranges.entries()) {
      await sendText(response, framing.heads[i] as string);
      await sendBytes(handle, range.start, range.length, response);
    }
    await sendText(response, framing.tail);
  } else {
    response.writeHead(200, { 'Content-Type': contentType, 'Content-Length': String(size) });
    await sendBytes(handle, 0, size, response);
  }
  response.end();
}
