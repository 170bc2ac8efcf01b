import type { KubeObject } from './kube-object';
import { encodeObjectMessage } from './protobuf-envelope';

/**
 * Stored objects' JSON, encoded once for every watch that sends them: the idea of
 * kube-apiserver's cachingObject (KEP-1152, "Less object serializations"), which serializes a
 * watch event's object once for all its watchers. A thousand kube-proxies starting at once then cost one encode per Service, not a
 * thousand; an endpoint change delivered to all of them, one encode.
 *
 * The same for protobuf (Services and EndpointSlices, see protobuf-envelope.ts): an object's
 * message bytes, encoded once and wrapped per response (a GET's envelope, a list's item, a watch
 * event's frame: copies, not encodes).
 *
 * Stored objects are never mutated (ObjectStore: every write stores a new object), so a text
 * never goes stale; it lives as long as its object (a WeakMap), which is what the memory costs:
 * about one JSON text per object version some watch has sent (at 44k Services and their
 * EndpointSlices, ~95 MB in the server's process), and as much again in protobuf (about half the
 * JSON's size) for objects some protobuf client has read.
 */
export class EncodedObjects {
  private readonly texts = new WeakMap<KubeObject, string>();
  private readonly messages = new WeakMap<KubeObject, Buffer>();
  /** JSON encodings made (objects not found in the cache). */
  encodes = 0;
  /** Protobuf encodings made (objects not found in the cache). */
  protobufEncodes = 0;

  /** JSON.stringify(o), from the cache when another watch already encoded this object. */
  json(o: KubeObject): string {
    let text = this.texts.get(o);
    if (text === undefined) {
      text = JSON.stringify(o);
      this.encodes++;
      this.texts.set(o, text);
    }
    return text;
  }

  /** `o`'s protobuf message (no envelope) as `apiVersion` `kind`, from the cache when already encoded. */
  protobuf(o: KubeObject, apiVersion: string, kind: string): Buffer {
    let bytes = this.messages.get(o);
    if (bytes === undefined) {
      bytes = encodeObjectMessage(o as unknown as Record<string, unknown>, apiVersion, kind);
      this.protobufEncodes++;
      this.messages.set(o, bytes);
    }
    return bytes;
  }
}
