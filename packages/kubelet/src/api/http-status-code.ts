/** The HTTP status an API client error carries (client-node sets `code`), or undefined when there is none. */
export function httpStatusCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'number' ? code : undefined;
}
