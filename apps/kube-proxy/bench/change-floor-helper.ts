import { readFileSync } from 'node:fs';
import { NetlinkNftablesClient, parseScript } from '@nodeagent/netfilter/nftables';

// Run inside the scale bench's namespace (see scale-change-floor.ts): applies two small
// nf_tables transactions in turn over one netlink socket, `runs` times each, and prints the
// milliseconds of each from its first sendmsg to the kernel's answer (NetlinkNftablesClient's
// lastBatch.sendMs: the kernel checks and commits a batch inside that sendmsg) and of the whole
// run() (encoding included). Usage: change-floor-helper.ts <forward.nft> <back.nft> <runs>.

const [forwardFile, backFile, runsText] = process.argv.slice(2) as [string, string, string];
const client = new NetlinkNftablesClient({ family: 'ip', table: 'kube-proxy' });
const scripts = [readFileSync(forwardFile, 'utf8'), readFileSync(backFile, 'utf8')];
const sendMs: number[] = [];
const runMs: number[] = [];
for (let r = 0; r < Number(runsText); r++) {
  for (const script of scripts) {
    const tx = parseScript(script, 'ip', 'kube-proxy');
    const t0 = performance.now();
    await client.run(tx);
    runMs.push(performance.now() - t0);
    sendMs.push(client.lastBatch?.sendMs ?? Number.NaN);
  }
}
await client.close();
process.stdout.write(`${JSON.stringify({ sendMs, runMs })}\n`);
