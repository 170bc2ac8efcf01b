import type { KubeObject } from './kube-object';

/**
 * Stored objects' JSON, encoded once for every watch that sends them: the idea of
 * kube-apiserver's cachingObject (KEP-1152, "Less object serializations"), which serializes a
 * watch event's object once for all its watchers. A thousand kube-proxies starting at once then cost one encode per Service, not a
 * thousand; an endpoint change delivered to all of them, one encode.
 *
 * Stored objects are never mutated (ObjectStore: every write stores a new object), so a text
 * never goes stale; it lives as long as its object (a WeakMap), which is what the memory costs:
 * about one JSON text per object version some watch has sent (at 44k Services and their
 * EndpointSlices, ~95 MB in the server's process).
 */
export class EncodedObjects {
  private readonly texts = new WeakMap<KubeObject, string>();
  /** JSON encodings made (objects not found in the cache). */
  encodes = 0;

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
}
