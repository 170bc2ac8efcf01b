import type { RequestOptions } from 'node:http';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { KubeConfig } from '@kubernetes/client-node';

/** The TLS material of a request's options: a request whose material differs needs another context or agent. */
export type TlsMaterial = readonly unknown[];

/** The TLS material client-node's applyToHTTPSOptions put in `options`. */
export function tlsMaterialOf(options: RequestOptions): TlsMaterial {
  const o = options as RequestOptions & Record<string, unknown>;
  return [o.ca, o.cert, o.key, o.pfx, o.passphrase, o.rejectUnauthorized, o.servername];
}

/** Whether two materials are the same (Buffers by content). */
export function sameTlsMaterial(a: TlsMaterial, b: TlsMaterial): boolean {
  return a.every((value, i) => {
    const other = b[i];
    if (Buffer.isBuffer(value) && Buffer.isBuffer(other)) return value.equals(other);
    return value === other;
  });
}

/** A context with the material it was made from. */
interface MadeContext {
  material: TlsMaterial;
  context: SecureContext;
}

/** The context each KubeConfig last used: the common case, found without comparing material. */
const contexts = new WeakMap<KubeConfig, MadeContext>();

/**
 * The contexts made last, found by their material: another KubeConfig with the same CA and
 * client pair (the kubelet's views of its one kubeconfig: the main, heartbeat and event
 * clients) takes the same context, as client-go's transport cache shares one transport among
 * clients whose TLS configuration is the same. Bounded: a rotated pair leaves its old one here
 * until it is pushed out.
 */
const recent: MadeContext[] = [];
const RECENT_CONTEXTS = 4;

/**
 * One TLS context per TLS material (CA, client certificate and key) for every connection to its
 * server (the kept agent's and each watch's, of every KubeConfig with that material). Without it
 * Node builds a context per connection, parsing the CA bundle and the client key again each time:
 * ~17 ms of a kubelet's start (issue #51), where Go's client keeps one tls.Config per client. A
 * rotated client certificate is new material and gets a new context. Undefined when the material
 * cannot make one.
 */
export function sharedSecureContext(
  kubeConfig: KubeConfig,
  options: RequestOptions,
): SecureContext | undefined {
  const material = tlsMaterialOf(options);
  const kept = contexts.get(kubeConfig);
  if (kept && sameTlsMaterial(kept.material, material)) return kept.context;
  const made = recent.find((r) => sameTlsMaterial(r.material, material)) ?? makeContext(material, options);
  if (made) contexts.set(kubeConfig, made);
  return made?.context;
}

function makeContext(material: TlsMaterial, options: RequestOptions): MadeContext | undefined {
  const o = options as RequestOptions & Record<string, unknown>;
  let context: SecureContext;
  try {
    context = createSecureContext({
      ca: o.ca as string | Buffer | undefined,
      cert: o.cert as string | Buffer | undefined,
      key: o.key as string | Buffer | undefined,
      pfx: o.pfx as string | Buffer | undefined,
      passphrase: o.passphrase as string | undefined,
    });
  } catch {
    // Unusable material (a malformed certificate): no shared context, so the connection fails
    // as it did without one, with the TLS error where the request meets it.
    return undefined;
  }
  const made = { material, context };
  recent.unshift(made);
  if (recent.length > RECENT_CONTEXTS) recent.pop();
  return made;
}
