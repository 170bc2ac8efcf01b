// Writes an iptables restore payload to nf_tables over netlink, as iptables-nft-restore
// --noflush would, in ONE transaction: the kernel commits all of it or none of it. This takes
// the place of the tool for large payloads, where iptables-nft-restore spends most of its time
// comparing chain names in its own cache (quadratic in the chain count), not in the kernel.

import type { BatchBuffer, BatchMessage } from '../../nftables/netlink/batch-buffer';
import { BatchBuffer as NewBatchBuffer } from '../../nftables/netlink/batch-buffer';
import type { NfnetlinkChannel } from '../../nftables/netlink/channel';
import { errnoName, NftBatchTooLargeError, NftKernelError } from '../../nftables/netlink/errors';
import { NfnetlinkSession } from '../../nftables/netlink/session';
import type { IpFamily, Ruleset } from '../model';
import { encodeRestoreTextBatch } from './restore-text-batch';
import { encodeIptablesNftBatch, type IptablesNftBatchStats } from './ruleset-batch';

/** What one write cost, for logs and benches. */
export interface IptablesNftWriteStats extends IptablesNftBatchStats {
  /** Encoding the batch (from text: reading it too), in milliseconds of wall time. */
  encodeMs: number;
  /** Sending the datagram and waiting for the kernel's commit. */
  commitMs: number;
}

/**
 * `add rule …` messages of one chain share their operation text: a rule's number is its place
 * among that chain's messages (1-based, as iptables numbers rules; they need not be adjacent).
 */
function operationOf(batch: BatchBuffer, i: number): string {
  const message = batch.messages[i] as BatchMessage;
  if (!message.operation.startsWith('add rule ')) return message.operation;
  let number = 1;
  for (let j = 0; j < i; j++)
    if ((batch.messages[j] as BatchMessage).operation === message.operation) number++;
  return `${message.operation} (rule ${number})`;
}

/** The kernel's first refusal in a batch, naming the operation (the batch was rolled back). */
function kernelError(
  batch: BatchBuffer,
  errors: readonly (number | undefined)[],
  batchErrno?: number,
): NftKernelError {
  const failures: NftKernelError[] = [];
  errors.forEach((errno, i) => {
    if (errno === undefined) return;
    const message = batch.messages[i] as BatchMessage;
    failures.push(new NftKernelError(operationOf(batch, i), errno, errnoName(errno), message.index));
  });
  const [first, ...others] = failures;
  if (!first) return new NftKernelError('batch', batchErrno ?? 0, errnoName(batchErrno ?? 0), -1);
  return new NftKernelError(first.operation, first.errno, first.errnoName, first.index, others);
}

/**
 * Writes iptables rulesets (one family per call) over a NETLINK_NETFILTER channel it owns from
 * then on (close() closes it). The batch buffer is kept between writes; its pages are released
 * after each one.
 */
export class IptablesNftNetlinkWriter {
  private readonly batch: BatchBuffer = new NewBatchBuffer();
  private readonly session: NfnetlinkSession;

  constructor(
    private readonly channel: NfnetlinkChannel,
    /** Wall clock for the stats, in ms (injected by tests and benches). */
    private readonly now: () => number = () => performance.now(),
  ) {
    this.session = new NfnetlinkSession(channel);
  }

  /** Closes the channel. */
  close(): void {
    this.channel.close();
  }

  /**
   * Encode `ruleset` and commit it as one transaction. Throws IptablesNftUnsupportedError
   * (nothing sent) for a rule this encoder does not write as iptables-nft would,
   * NftBatchTooLargeError when the socket cannot take the datagram, NftKernelError when the
   * kernel refuses an operation (nothing changed).
   */
  async write(ruleset: Ruleset): Promise<IptablesNftWriteStats> {
    return this.commit(() => encodeIptablesNftBatch(ruleset, this.batch).stats);
  }

  /**
   * Restore payload `parts` (whole table sections each), encoded as they are read, committed as
   * one transaction: `write(parseSave(…))` without the model of every rule held at once. Throws
   * as `write` does, and ParseError (nothing sent) for text not in iptables-save form.
   */
  async writeText(parts: readonly string[], family: IpFamily): Promise<IptablesNftWriteStats> {
    return this.commit(() => encodeRestoreTextBatch(parts, family, this.batch).stats);
  }

  private async commit(encode: () => IptablesNftBatchStats): Promise<IptablesNftWriteStats> {
    const start = this.now();
    let stats: IptablesNftBatchStats;
    try {
      stats = encode();
    } catch (err) {
      this.batch.release();
      throw err;
    }
    return this.send(this.batch, stats, this.now() - start);
  }

  /**
   * Commits a batch encoded already (`encodeMs`: what that took, for the stats) as one
   * transaction, then releases its pages. Throws NftBatchTooLargeError or NftKernelError as
   * `write` does. For this package's writeOverNetlink, which encodes before opening a socket.
   * @internal
   */
  async send(batch: BatchBuffer, stats: IptablesNftBatchStats, encodeMs = 0): Promise<IptablesNftWriteStats> {
    const sending = this.now();
    try {
      const bytes = batch.byteLength;
      if (!(await this.session.fitDatagram(bytes)))
        throw new NftBatchTooLargeError(bytes, this.session.maxDatagram);
      const outcome = await this.session.batch(batch, { commit: true });
      if (outcome.batchErrno !== undefined || outcome.errors.some((e) => e !== undefined))
        throw kernelError(batch, outcome.errors, outcome.batchErrno);
      return { ...stats, encodeMs, commitMs: this.now() - sending };
    } finally {
      batch.release();
    }
  }
}
