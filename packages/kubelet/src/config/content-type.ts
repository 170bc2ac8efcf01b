/** Kubernetes' protobuf media type, KubeletConfiguration contentType's default. */
export const PROTOBUF_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf';

/**
 * Whether KubeletConfiguration contentType (`--kube-api-content-type`) asks for protobuf:
 * upstream's kubelet sets no acceptContentTypes, so its client's Accept header is contentType.
 */
export function contentTypeIsProtobuf(contentType: string): boolean {
  return contentType.split(';')[0]!.trim().toLowerCase() === PROTOBUF_MEDIA_TYPE;
}
