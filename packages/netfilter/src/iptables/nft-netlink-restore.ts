// A full restore payload on the iptables-nft back end written over netlink instead of by
// iptables-nft-restore (issue #54). Upstream kube-proxy runs iptables-restore; on the nft back
// end the tool spends most of a big full sync comparing chain names in its own cache (quadratic
// in the chain count: 65 CPU-s and 4 minutes for 255k chains), not in the kernel. The writer
// (nft-wire/) creates exactly the nf_tables objects `iptables-nft-restore --noflush` 1.8.9
// creates, so the kernel's objects and `iptables-save` are identical
// (test/real/iptables-nft-wire.test.ts proves it shape by shape).

import { InputAbortedError } from '@nodeagent/primitives';
import { EventLoopSlices } from '@nodeagent/primitives/event-loop-slices';
import { isParseError } from '../errors';
import { BatchBuffer } from '../nftables/netlink/batch-buffer';
import type { NfnetlinkChannel } from '../nftables/netlink/channel';
import { NftBatchTooLargeError } from '../nftables/netlink/errors';
import type { IpFamily } from './model';
import { IptablesNftUnsupportedError } from './nft-wire/errors';
import { IptablesNftNetlinkWriter, type IptablesNftWriteStats } from './nft-wire/netlink-writer';
import { encodeRestoreTextBatchSteps } from './nft-wire/restore-text-batch';
import type { IptablesNftBatchStats } from './nft-wire/ruleset-batch';

/** Full restores over netlink: where the socket comes from, and who hears about fallbacks. */
export interface NftNetlinkRestoreOptions {
  /**
   * Opens a NETLINK_NETFILTER socket in the namespace the tools act in (NetlinkChannel.open for
   * this process's, NetnsChannel.open for another). Opened per restore and closed after it:
   * full restores are rare (start, failures, hourly) and nothing is left running between them.
   */
  openChannel: () => Promise<NfnetlinkChannel>;
  /**
   * Told when a restore goes to iptables-restore instead: `reason` is short and stable (one
   * per kind of cause, for logging each once), `error` the detail.
   */
  onFallback?: (reason: string, error: unknown) => void;
  /**
   * Payloads expected to declare fewer chains than this go to iptables-restore as before. The
   * tool's cost grows with the square of the chain count and the writer's linearly, so the
   * writer pays only above a size (default 0: every full restore goes over netlink).
   */
  minChains?: number;
}

/** Why a payload is left to iptables-restore: the writer cannot take it, nothing was sent. */
/**
 * How long a full payload's rendering or encoding runs before the event loop gets a turn (ms):
 * 760,000 rules were one 3.5 s task of kube-proxy's main thread (apps/kube-proxy/bench/loop.bench.ts).
 */
const SLICE_MS = 8;

export class NftNetlinkFallback {
  constructor(
    readonly reason: string,
    readonly error: unknown,
  ) {}
}

/**
 * A payload's sections split by who writes them: sections whose lines are all declarations,
 * `-A` and `-X` (the model's vocabulary) go over netlink; sections inserting or deleting single
 * rules (`-I`/`-D`, the jumps from built-in chains kube-proxy adds once) go to the tool after.
 */
export function splitForNetlink(text: string): { netlink: string; tool: string } {
  // The common case (a full sync's main payload) is returned as it is: no copy of 100+ MB.
  if (!/\n-[ID] /.test(text)) return { netlink: text, tool: '' };
  const netlink: string[] = [];
  const tool: string[] = [];
  let start = 0;
  while (start < text.length) {
    const commit = text.indexOf('\nCOMMIT', start - 1);
    const endOfCommit = commit < 0 ? text.length : text.indexOf('\n', commit + 1 + 'COMMIT'.length);
    const end = endOfCommit < 0 ? text.length : endOfCommit + 1;
    const section = text.slice(start, end);
    (/\n-[ID] /.test(section) ? tool : netlink).push(section);
    start = end;
  }
  return { netlink: netlink.join(''), tool: tool.join('') };
}

/**
 * splitForNetlink for a payload in consecutive pieces (a streamed payload's chunks): the pieces
 * themselves when no `-I`/`-D` line is among them (a full sync's main payload: nothing joined),
 * else the joined text split.
 */
export function splitPiecesForNetlink(pieces: readonly string[]): {
  netlink: readonly string[];
  tool: string;
} {
  let before = '';
  for (const piece of pieces) {
    // A `\n-I ` cut between two pieces is looked for where they meet.
    if (/\n-[ID] /.test(piece) || /\n-[ID] /.test(before.slice(-3) + piece.slice(0, 3))) {
      const { netlink, tool } = splitForNetlink(pieces.join(''));
      return { netlink: [netlink], tool };
    }
    if (piece !== '') before = piece;
  }
  return { netlink: pieces, tool: '' };
}

/** Gathers a streamed payload; a producer failure is the tool path's InputAbortedError (nothing sent). */
export async function gatherPayload(
  chunks: AsyncIterable<string>,
  command: readonly string[],
): Promise<string[]> {
  const produced: string[] = [];
  try {
    // A producer that renders as it is pulled never waits for I/O: without a turn of the event
    // loop now and then, its whole payload (760,000 rules) would be rendered in one task.
    const slices = new EventLoopSlices({ sliceMs: SLICE_MS });
    for await (const chunk of chunks) {
      produced.push(chunk);
      if (slices.spent()) await slices.turn();
    }
  } catch (err) {
    throw new InputAbortedError(command, 0, err);
  }
  return produced;
}

/**
 * Reads `parts` (consecutive pieces of one payload), encoding their rules as they are read, and writes
 * them in one transaction. Throws NftNetlinkFallback (nothing sent) for a payload the writer
 * cannot take; a kernel refusal is NftKernelError naming the operation (the transaction rolled
 * back: nothing changed).
 */
export async function writeOverNetlink(
  parts: readonly string[],
  family: IpFamily,
  options: NftNetlinkRestoreOptions,
): Promise<IptablesNftWriteStats> {
  // Encoded before the socket is opened: a payload the writer refuses costs no socket.
  const batch = new BatchBuffer();
  const start = performance.now();
  let stats: IptablesNftBatchStats;
  // What runs in the event loop's turns between the encoding's steps is not the encoding's.
  const slices = new EventLoopSlices({ sliceMs: SLICE_MS });
  try {
    const steps = encodeRestoreTextBatchSteps(parts, family, batch);
    for (;;) {
      const step = steps.next();
      if (step.done) {
        stats = step.value.stats;
        break;
      }
      if (slices.spent()) await slices.turn();
    }
  } catch (err) {
    batch.release();
    if (isParseError(err)) throw new NftNetlinkFallback('payload not in iptables-save form', err);
    if (err instanceof IptablesNftUnsupportedError) throw new NftNetlinkFallback(err.shape, err);
    if (err instanceof NftBatchTooLargeError)
      throw new NftNetlinkFallback('batch larger than the socket takes', err);
    throw err;
  }
  const encodeMs = performance.now() - start - slices.pausedMs;
  let writer: IptablesNftNetlinkWriter;
  try {
    writer = new IptablesNftNetlinkWriter(await options.openChannel());
  } catch (err) {
    batch.release();
    throw new NftNetlinkFallback('netlink socket unavailable', err);
  }
  try {
    return await writer.send(batch, stats, encodeMs);
  } catch (err) {
    if (err instanceof NftBatchTooLargeError)
      throw new NftNetlinkFallback('batch larger than the socket takes', err);
    throw err;
  } finally {
    writer.close();
  }
}
