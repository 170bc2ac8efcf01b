import { createHash } from 'node:crypto';
import { type CriClient, createCriClient } from '@nodeagent/cri-client';
import { CommandNotFoundError, FakeRuntime, runCommand } from '@nodeagent/cri-client/testing';

/** The sandbox image the kubelet's pod sandboxes name; present from the start. */
export const PAUSE_IMAGE = 'registry.k8s.io/pause:3.10';

/** What every hollow container runs when its own command is beyond the fake's mini shell. */
const RUN_UNTIL_STOPPED = ['sleep', 'infinity'];

/** One node's runtime: the fake CRI server and the client the kubelet talks to it through (in process). */
export interface HollowRuntime {
  fake: FakeRuntime;
  client: CriClient;
  stop(): Promise<void>;
}

/** One image ID per reference, the same on every node (as a registry's digest would be). */
function imageId(ref: string): string {
  return `sha256:${createHash('sha256').update(ref).digest('hex')}`;
}

/**
 * Whether the fake's mini shell can run `argv` as a container's main process. It runs `sh -c`
 * scripts of echo/sleep/exit and those builtins; anything else (an image's server binary) it
 * refuses, where kubemark's fake runtime runs every container until it is stopped.
 */
function runnable(argv: string[]): boolean {
  if (argv.length === 0) return false;
  try {
    runCommand(argv);
    return true;
  } catch (error) {
    if (error instanceof CommandNotFoundError) return false;
    throw error;
  }
}

/**
 * Makes the fake behave as kubemark's hollow runtime: every image reference can be pulled (it is
 * put in the fake's registry just before the pull, so the pull itself goes through the fake as
 * usual), and a container whose command the mini shell cannot run runs until stopped instead.
 */
function hollowBehaviour(client: CriClient, fake: FakeRuntime): void {
  const pull = client.pullImage.bind(client);
  client.pullImage = (req, opts) => {
    const ref = req.image?.image ?? '';
    if (ref) fake.addRegistryImage({ ref, id: imageId(ref), entrypoint: RUN_UNTIL_STOPPED });
    return pull(req, opts);
  };
  const create = client.createContainer.bind(client);
  client.createContainer = (req, opts) => {
    const config = req.config;
    const argv = [...(config?.command ?? []), ...(config?.args ?? [])];
    // An empty command runs the image's entrypoint, which every hollow image has as sleep.
    if (config && argv.length > 0 && !runnable(argv))
      return create({ ...req, config: { ...config, command: RUN_UNTIL_STOPPED, args: [] } }, opts);
    return create(req, opts);
  };
}

/** Starts one node's fake runtime with its pod subnet (pod IPs come from there). */
export async function startHollowRuntime(podSubnet: string): Promise<HollowRuntime> {
  // Not listening: the kubelet reaches it in process, so a socket and a temp dir per node would
  // only cost descriptors (a thousand nodes' sockets) and leave /tmp litter if stop() never ran.
  const fake = FakeRuntime.create({
    podSubnet,
    images: [{ ref: PAUSE_IMAGE, id: imageId(PAUSE_IMAGE), entrypoint: RUN_UNTIL_STOPPED }],
  });
  // Calls reach the fake in this process (encoded and decoded as on the wire, without the socket
  // and HTTP/2): a thousand nodes' PLEG relists spent ~40% of the process's busy time in that hop.
  const client = await createCriClient({ endpoint: fake.endpoint, transport: fake.inProcessTransport() });
  hollowBehaviour(client, fake);
  return {
    fake,
    client,
    async stop() {
      client.close();
      await fake.stop();
    },
  };
}
