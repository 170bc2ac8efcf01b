import { InvalidOptionError } from '@nodeagent/primitives';
import { decodeEnvelopedObject } from './envelope';
import { type DecodeFlags, decodeFlags, type OmittablePath } from './omit';

/**
 * Opting a KubeListerWatcher (or an Informer) into protobuf: lists and watches ask for
 * `application/vnd.kubernetes.protobuf` (JSON accepted too) and whatever the server answers is
 * decoded by its Content-Type. The decoded objects are the JSON's (same fields, same values).
 */
export interface ProtobufWireOptions {
  /**
   * Fields to leave out while decoding (see OMITTABLE_PATHS), the same as deleting them after:
   * `['endpoints.targetRef', 'metadata.managedFields']` for kube-proxy.
   */
  omit?: readonly OmittablePath[];
}

/** The collections this client decodes from protobuf: upstream kube-proxy's two. */
const PROTOBUF_RESOURCES = ['v1 services', 'discovery.k8s.io/v1 endpointslices'];

/**
 * The decode flags for a resource, checked: asking a server for another resource's protobuf
 * would get bytes nothing here decodes, so that is an InvalidOptionError up front.
 */
export function protobufFlagsFor(
  resource: { apiVersion: string; plural: string },
  options: ProtobufWireOptions,
): DecodeFlags {
  const name = `${resource.apiVersion} ${resource.plural}`;
  if (!PROTOBUF_RESOURCES.includes(name))
    throw new InvalidOptionError('protobuf', name, `is decoded only for ${PROTOBUF_RESOURCES.join(' and ')}`);
  return decodeFlags(options.omit ?? []);
}

/**
 * A protobuf error body (`k8s\0` + Unknown around a Status) as the Status's JSON text, for the
 * same reading as a JSON error body; '' when it is not one (the HTTP status line is used then).
 */
export function protobufStatusText(body: Buffer): string {
  try {
    return JSON.stringify(decodeEnvelopedObject(body, 0, body.length, decodeFlags([])));
  } catch {
    return '';
  }
}
