/**
 * The CSI calls of a recorded exchange (the hostpath driver's log, as in
 * fidelity/node-plugins-v1.36/csi-hostpath-exchange.txt): `[method, request]` in order, with the
 * kubelet's root directory written `<root-dir>`. Controller calls (the provisioner's) are kept:
 * filter by method to compare the node's share.
 */
export function parseCsiExchange(text: string): [string, unknown][] {
  const out: [string, unknown][] = [];
  let method: string | undefined;
  for (const line of text.split('\n')) {
    const call = /GRPC call: (\S+)/.exec(line);
    if (call) {
      method = call[1];
      continue;
    }
    const req = /GRPC request: (.*)$/.exec(line);
    if (req && method) {
      out.push([method, JSON.parse(req[1] as string)]);
      method = undefined;
    }
  }
  return out;
}

/** Replace `rootDir` with `<root-dir>` in every string of a recorded exchange, to compare with a recording. */
export function withRootDirPlaceholder<T>(value: T, rootDir: string): T {
  return JSON.parse(JSON.stringify(value).split(rootDir).join('<root-dir>')) as T;
}
