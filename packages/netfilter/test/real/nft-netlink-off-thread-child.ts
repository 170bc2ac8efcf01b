// Run in a network namespace by nft-netlink-off-thread.test.ts: one full table of `count` map
// elements through NetlinkNftablesClient.runTable over this namespace's own socket
// (NetlinkChannel), reporting, for each datagram at least OFF_THREAD_SEND_BYTES long, the CPU
// its send took on the main thread and in the whole process (the kernel runs the batch in the
// sending thread's sendmsg).
import { readFileSync } from 'node:fs';
import { IncrementalNftTable } from '../../src/nftables/incremental-table';
import { NetlinkChannel } from '../../src/nftables/netlink/channel';
import { NetlinkNftablesClient } from '../../src/nftables/netlink/client';
import { OFF_THREAD_SEND_BYTES } from '../../src/nftables/netlink/off-thread-send';

const count = Number(process.argv[2]);
const mainCpuMs = () => Number(readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ')[0]) / 1e6;
const processCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const table = new IncrementalNftTable({ kind: 'table' });
table.set('base', {
  chains: [{ chain: { kind: 'chain', name: 'target' }, rules: [] }],
  sets: [{ kind: 'map', name: 'big', type: 'ipv4_addr . inet_proto . inet_service', valueType: 'verdict' }],
});
for (let i = 0; i < count; i++)
  table.set(`e${i}`, {
    elements: [
      {
        kind: 'element',
        container: 'big',
        key: [`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 'tcp', String(1 + (i % 60_000))],
        value: ['goto target'],
      },
    ],
  });

const sends: { bytes: number; mainCpuMs: number; processCpuMs: number }[] = [];
const channel = await NetlinkChannel.open();
const send = channel.send.bind(channel);
channel.send = async (datagram: Buffer) => {
  const main = mainCpuMs();
  const all = processCpuMs();
  await send(datagram);
  if (datagram.length >= OFF_THREAD_SEND_BYTES)
    sends.push({ bytes: datagram.length, mainCpuMs: mainCpuMs() - main, processCpuMs: processCpuMs() - all });
};
const client = new NetlinkNftablesClient({ family: 'ip', table: 'off-thread', channel });
await client.runTable(table);
await client.close();
process.stdout.write(`${JSON.stringify({ sends })}\n`);
