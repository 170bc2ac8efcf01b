import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { NetlinkNftablesClient, parseScript } from '@nodeagent/netfilter/nftables';
import { monotonicNow } from './monotonic-clock';

// Run inside the scale bench's namespace (see scale-paced-floor.ts): the least any kube-proxy
// does for one endpoint change, woken from idle as the daemon is. It warms its socket and code
// with one forward and back transaction, prints "ready", then for each line on stdin applies the
// next of the two transactions in turn and prints when the line arrived and when the kernel had
// answered (CLOCK_MONOTONIC ms, monotonic-clock.ts). Usage: paced-floor-helper.ts <forward.nft> <back.nft>.

const [forwardFile, backFile] = process.argv.slice(2) as [string, string];
const client = new NetlinkNftablesClient({ family: 'ip', table: 'kube-proxy' });
const scripts = [readFileSync(forwardFile, 'utf8'), readFileSync(backFile, 'utf8')];
const apply = (n: number) => client.run(parseScript(scripts[n % 2] as string, 'ip', 'kube-proxy'));

await apply(0);
await apply(1);
process.stdout.write('ready\n');
let n = 0;
for await (const _line of createInterface({ input: process.stdin })) {
  const receivedAt = monotonicNow();
  await apply(n++);
  process.stdout.write(`${JSON.stringify({ receivedAt, doneAt: monotonicNow() })}\n`);
}
await client.close();
