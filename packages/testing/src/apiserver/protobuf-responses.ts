import type { ApiError } from './api-error';
import type { ApiResponse } from './http-exchange';
import { negotiateMedia } from './media-negotiation';
import { encodeProtobufObject, protobufMessageOf } from './protobuf-envelope';
import { apiVersionOf, type ResourceType } from './resource-types';
import { wantsTable } from './table-output';

/** kube-apiserver's protobuf media type, and the watch stream's. */
export const PROTOBUF_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf';
export const PROTOBUF_WATCH_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf;stream=watch';

/**
 * Whether a read of `rt` under `accept` is answered in protobuf: negotiation picks protobuf, no
 * conversion is asked for (Tables stay JSON here), and the fake encodes the kind (Services and
 * EndpointSlices; any other kind gets JSON, where a real server would answer protobuf).
 */
export function wantsProtobuf(accept: string, rt: ResourceType): boolean {
  const negotiated = negotiateMedia(accept);
  return (
    negotiated?.media === 'protobuf' &&
    negotiated.as === undefined &&
    !wantsTable(accept) &&
    protobufMessageOf(apiVersionOf(rt), rt.kind) !== undefined
  );
}

/** Answers `code` with protobuf `body` (an envelope). */
export function sendProtobuf(res: ApiResponse, code: number, body: Uint8Array): void {
  res.writeHead(code, { 'Content-Type': PROTOBUF_MEDIA_TYPE, 'Content-Length': String(body.length) });
  res.end(body);
}

/** Answers a failed protobuf read with its Status, protobuf-encoded. */
export function sendProtobufStatus(res: ApiResponse, err: ApiError): void {
  sendProtobuf(res, err.code, encodeProtobufObject(err.toStatus() as unknown as Record<string, unknown>));
}
