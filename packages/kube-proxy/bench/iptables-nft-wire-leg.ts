// One leg of bench/iptables-nft-wire.bench.ts, run inside the namespace under test (nsenter):
// reads a restore payload and writes it to nf_tables over this process's own netlink socket in
// one transaction, as the daemon does (IptablesNftNetlinkWriter.writeText: rules encoded as the
// text is read). KP_NFTWIRE_PATH=model parses the whole payload into the model first
// (parseSave, then write), the way before issue #54's streaming. Prints its stages as one JSON
// line. The kernel's commit runs in this process's sendmsg, so its system CPU time counts the
// kernel's work.
import { readFileSync } from 'node:fs';
import { cpuUsage } from 'node:process';
import { IptablesNftNetlinkWriter, parseSave } from '@nodeagent/netfilter/iptables';
import { NetlinkChannel } from '@nodeagent/netfilter/nftables';

const file = process.argv[2];
if (!file) throw new Error('usage: iptables-nft-wire-leg.ts <payload file>');
const viaModel = process.env.KP_NFTWIRE_PATH === 'model';
const text = readFileSync(file, 'utf8');
const writer = new IptablesNftNetlinkWriter(await NetlinkChannel.open());
const cpu0 = cpuUsage();
const t0 = performance.now();
const ruleset = viaModel ? parseSave(text, 'ipv4') : undefined;
const parseMs = performance.now() - t0;
const afterParse = cpuUsage();
const stats = ruleset ? await writer.write(ruleset) : await writer.writeText([text], 'ipv4');
const cpu = cpuUsage(cpu0);
const writeCpu = cpuUsage(afterParse);
writer.close();
console.log(
  JSON.stringify({
    path: viaModel ? 'model' : 'text',
    /** The model path's parse; 0 on the text path, whose reading is in encodeMs. */
    parseMs,
    encodeMs: stats.encodeMs,
    commitMs: stats.commitMs,
    wallMs: performance.now() - t0,
    userMs: cpu.user / 1000,
    systemMs: cpu.system / 1000,
    /** CPU of the parse alone, and of encoding + sendmsg + commit (system: mostly the kernel's commit). */
    parseCpuMs: (afterParse.user + afterParse.system - cpu0.user - cpu0.system) / 1000,
    writeUserMs: writeCpu.user / 1000,
    writeSystemMs: writeCpu.system / 1000,
    rules: stats.rules,
    chains: stats.chains,
    batchBytes: stats.bytes,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  }),
);
