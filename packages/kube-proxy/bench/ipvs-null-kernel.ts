// The kernel layers of ipvs.bench.ts's host part: IPVS through the real @nodeagent/ipvs handle
// (its encoding, batching and promise per write) over a generic netlink transport that answers
// every request at once without a kernel, and the other layers doing nothing. What a sync costs
// there is the planner's, the applier's and the library's own CPU time.
import { Ipvs } from '@nodeagent/ipvs';
import type { BatchMessage, GenlTransport, NetlinkErrnoError } from '@nodeagent/ipvs/netlink';
import type { IpvsKernelLayers } from '../src/ipvs/index';

/** GENL_ID_CTRL: the family lookup Ipvs.open sends first. */
const GENL_ID_CTRL = 0x10;
/** A CTRL_CMD_NEWFAMILY reply naming family id 0x22, version 1 (as @nodeagent/ipvs's tests fake it). */
const FAMILY_REPLY = '0102000006000100220000000800030001000000';

/** Counts the writes it swallows, so a bench can say how many messages a change sent. */
export class NullGenlTransport implements GenlTransport {
  messages = 0;

  async request(type: number): Promise<Buffer[]> {
    if (type === GENL_ID_CTRL) return [Buffer.from(FAMILY_REPLY, 'hex')];
    this.messages++;
    return [];
  }

  async requestBatch(
    _type: number,
    messages: readonly BatchMessage[],
  ): Promise<(NetlinkErrnoError | undefined)[]> {
    this.messages += messages.length;
    return messages.map(() => undefined);
  }

  close(): void {}
}

/** IPVS over a NullGenlTransport; kube-ipvs0, ipsets and iptables accept everything and hold nothing. */
export async function nullKernel(): Promise<{ layers: IpvsKernelLayers; transport: NullGenlTransport }> {
  const transport = new NullGenlTransport();
  const ipvs = await Ipvs.open({ transport });
  // ensureRule / listChains / deleteRule: what the applier before #54's one-save jump check
  // called, so this bench also runs against an older tree for a before/after.
  const iptables = {
    restore: async () => {},
    saveTable: async () => '',
    ensureRule: async () => {},
    listChains: async () => new Set<string>(),
    deleteRule: async () => {},
  };
  const layers: IpvsKernelLayers = {
    ipvs,
    link: {
      ensureDummy: async () => {},
      linkExists: async () => true,
      deleteLink: async () => {},
      listAddresses: async () => [],
      addAddresses: async () => {},
      deleteAddresses: async () => {},
      localAddresses: async () => ['192.168.0.10'],
    },
    ipset: { save: async () => new Map(), restore: async () => {}, destroy: async () => {} },
    iptables,
  };
  return { layers, transport };
}
