import { PROTOBUF_CONTENT_TYPE } from './defaults';

/** The media type every API response can be decoded from. */
export const JSON_CONTENT_TYPE = 'application/json';

/** The client-connection fields that choose the media types of the informers' requests. */
export interface ContentTypeFields {
  /** clientConnection.contentType: the request bodies' type, and the Accept header when acceptContentTypes is empty. */
  contentType: string;
  /** clientConnection.acceptContentTypes: the Accept header, when set. */
  acceptContentTypes: string;
}

/** The media types an Accept-style list names, in order, without parameters (`a/b;q=0.5, c/d` → `[a/b, c/d]`). */
export function mediaTypes(list: string): string[] {
  return list
    .split(',')
    .map((t) => t.split(';')[0]!.trim())
    .filter((t) => t !== '');
}

/**
 * Whether the Service and EndpointSlice informers ask for protobuf: upstream's client sends
 * acceptContentTypes as its Accept header, or contentType when that is empty, so protobuf is
 * asked for when that header names it. (The own-Node informer asks for JSON: its one object's
 * protobuf form is not decoded here.)
 */
export function listsAsProtobuf(client: ContentTypeFields): boolean {
  const accept = client.acceptContentTypes.trim();
  if (accept === '') return client.contentType === PROTOBUF_CONTENT_TYPE;
  return mediaTypes(accept).includes(PROTOBUF_CONTENT_TYPE);
}
