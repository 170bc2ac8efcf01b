import { stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { grpcTarget, isUnavailable } from '@nodeagent/cri-client';
import { systemReason } from '@nodeagent/primitives';
import { StartUpError, settingName } from './start-up-errors';

/** What listens on each endpoint setting, for the line's advice. */
const SERVICES = {
  containerRuntimeEndpoint: 'container runtime',
  imageServiceEndpoint: 'image service',
} as const;

/**
 * Why nothing answers on a unix socket, from the file itself: missing (or unreadable), not a
 * socket, or nobody listening on it; undefined when a plain connection works after all.
 */
async function socketFailure(path: string): Promise<string | undefined> {
  const info = await stat(path).catch((error: unknown) => error as Error);
  if (info instanceof Error) return `dial unix ${path}: connect: ${systemReason(info)}`;
  if (!info.isSocket()) return `${path} is not a socket`;
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(undefined);
    });
    probe.once('error', (error) => resolve(`dial unix ${path}: connect: ${systemReason(error)}`));
  });
}

/**
 * containerRuntimeEndpoint or imageServiceEndpoint could not be used at start (upstream exits 1
 * too, "validate service connection"): the setting, the endpoint and the system's reason, with
 * what to check. A runtime that answered wrongly keeps its own words.
 */
export async function criEndpointFailure(
  field: keyof typeof SERVICES,
  endpoint: string,
  error: unknown,
): Promise<StartUpError> {
  const why = isUnavailable(error)
    ? await socketFailure(grpcTarget(endpoint).slice('unix://'.length))
    : undefined;
  const reason = why
    ? `cannot reach ${JSON.stringify(endpoint)}: ${why}; is the ${SERVICES[field]} running, and is this its socket?`
    : (error as Error).message;
  return new StartUpError(settingName(field), endpoint, reason);
}
