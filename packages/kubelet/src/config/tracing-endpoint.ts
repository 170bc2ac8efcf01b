/**
 * Why component-base's ValidateTracingConfiguration refuses a tracing endpoint, or undefined:
 * an endpoint without "//" is read as dns://<endpoint>, and only the gRPC name schemes dns,
 * unix and unix-abstract are taken (the reason is upstream's, its double spaces included).
 */
export function tracingEndpointProblem(endpoint: string): string | undefined {
  const url = endpoint.includes('//') ? endpoint : `dns://${endpoint}`;
  // Go's url.Parse: a scheme is a letter then letters, digits, "+", "-" or "." before ":", lower-cased.
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url)?.[1]?.toLowerCase() ?? '';
  if (scheme === 'dns' || scheme === 'unix' || scheme === 'unix-abstract') return undefined;
  return `unsupported scheme: ${scheme}.  Options are none, dns, unix, or unix-abstract.  See https://github.com/grpc/grpc/blob/master/doc/naming.md`;
}
