// Writes an iptables restore payload to nf_tables over netlink, as iptables-nft-restore
// --noflush would, in ONE transaction: the kernel commits all of it or none of it. This takes
// the place of the tool for large payloads, where iptables-nft-restore spends most of its time
// comparing chain names in its own cache (quadratic in the chain count), not in the kernel.

import type { BatchBuffer, BatchMessage } from '../../nftables/netlink/batch-buffer';
import { BatchBuffer as NewBatchBuffer } from '../../nftables/netlink/batch-buffer';
import { errnoName, NftBatchTooLargeError, NftKernelError } from '../../nftables/netlink/errors';
import type { NfnetlinkSession } from '../../nftables/netlink/session';
import type { Ruleset } from '../model';
import { encodeIptablesNftBatch, type IptablesNftBatchStats } from './ruleset-batch';

/** What one write cost, for logs and benches. */
export interface IptablesNftWriteStats extends IptablesNftBatchStats {
  /** Encoding the batch, in milliseconds of wall time. */
  encodeMs: number;
  /** Sending the datagram and waiting for the kernel's commit. */
  commitMs: number;
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
    failures.push(new NftKernelError(message.operation, errno, errnoName(errno), message.index));
  });
  const [first, ...others] = failures;
  if (!first) return new NftKernelError('batch', batchErrno ?? 0, errnoName(batchErrno ?? 0), -1);
  return new NftKernelError(first.operation, first.errno, first.errnoName, first.index, others);
}

/**
 * Writes iptables rulesets (one family per call) through an nf_tables session. The batch buffer
 * is kept between writes; its pages are released after each one.
 */
export class IptablesNftNetlinkWriter {
  private readonly batch: BatchBuffer = new NewBatchBuffer();

  constructor(
    private readonly session: NfnetlinkSession,
    /** Wall clock for the stats (injected by tests and benches). */
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * Encode `ruleset` and commit it as one transaction. Throws IptablesNftUnsupportedError
   * (nothing sent) for a rule this encoder does not write as iptables-nft would,
   * NftBatchTooLargeError when the socket cannot take the datagram, NftKernelError when the
   * kernel refuses an operation (nothing changed).
   */
  async write(ruleset: Ruleset): Promise<IptablesNftWriteStats> {
    const start = this.now();
    try {
      const { stats } = encodeIptablesNftBatch(ruleset, this.batch);
      const encoded = this.now();
      const bytes = this.batch.byteLength;
      if (!(await this.session.fitDatagram(bytes)))
        throw new NftBatchTooLargeError(bytes, this.session.maxDatagram);
      const outcome = await this.session.batch(this.batch, { commit: true });
      if (outcome.batchErrno !== undefined || outcome.errors.some((e) => e !== undefined))
        throw kernelError(this.batch, outcome.errors, outcome.batchErrno);
      return { ...stats, encodeMs: encoded - start, commitMs: this.now() - encoded };
    } finally {
      this.batch.release();
    }
  }
}
