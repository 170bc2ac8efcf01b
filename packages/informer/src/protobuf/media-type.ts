/** Kubernetes' protobuf media type (a body, or with `;stream=watch` a watch's frames). */
export const PROTOBUF_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf';

/** What a protobuf client sends: protobuf first, JSON accepted (a server or resource without protobuf answers JSON). */
export const PROTOBUF_ACCEPT = `${PROTOBUF_MEDIA_TYPE}, application/json`;

/** Whether a response's Content-Type is protobuf (parameters such as `;stream=watch` aside). */
export function isProtobufContentType(contentType: string | undefined): boolean {
  return contentType?.trimStart().toLowerCase().startsWith(PROTOBUF_MEDIA_TYPE) === true;
}
