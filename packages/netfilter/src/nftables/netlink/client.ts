import { EventLoopSlices } from '@nodeagent/primitives/event-loop-slices';
import type { NftElementTextSource } from '../element-text';
import type { IncrementalNftTable } from '../incremental-table';
import type { NftChain, NftElement, NftFamily, NftRuleset } from '../model';
import type { NftablesInterface } from '../nftables-interface';
import type { NftPackedElementSource, NftPackedElementSteps } from '../packed-element';
import { type NftOperation, NftTransaction } from '../transaction';
import { AttributeWriter } from './attributes';
import { BatchBuffer, type BatchMessage } from './batch-buffer';
import { NetlinkChannel, type NfnetlinkChannel } from './channel';
import { NFPROTO, NftaRule, NftaSet, NftaSetElemList, NftMsg } from './constants';
import {
  decodeChain,
  decodeElements,
  decodeRule,
  decodeSet,
  decodeTable,
  type NetlinkRule,
  rawElements,
} from './decode';
import { encodeOperations, encodeOperationsInSteps, type KnownSet } from './encode';
import { errnoName, NftBatchTooLargeError, NftKernelError } from './errors';
import { nftMessageType } from './message';
import { NetnsChannel, type NetnsChannelOptions } from './netns-channel';
import {
  type AnonymousSetContents,
  type DecompileContext,
  compileRule as defaultCompileRule,
  decompileRule as defaultDecompileRule,
} from './rule/index';
import type { CompileRule } from './rule/types';
import { type BatchOutcome, DumpError, NfnetlinkSession } from './session';

const ENOENT = 2;

/** The table a netlink nftables client manages, its channel (or namespace) and rule compiler. */
export interface NetlinkNftablesClientOptions {
  family: NftFamily;
  table: string;
  /**
   * The socket: default a NETLINK_NETFILTER socket in this process's network namespace, opened
   * on first use. Pass a channel (or a function that opens one) to use another.
   */
  channel?: NfnetlinkChannel | (() => Promise<NfnetlinkChannel>);
  /** Open the socket in this network namespace instead (a relay process owns it; see NetnsChannel). */
  netns?: { path: string } & NetnsChannelOptions;
  /** nft rule text → expressions (default: this package's rule compiler). */
  compileRule?: CompileRule;
  /**
   * A batch must be one datagram to be atomic. One bigger than the socket's send buffer (twice
   * net.core.wmem_max) gets a bigger buffer through SO_SNDBUFFORCE (CAP_NET_ADMIN and the
   * optional `koffi` package needed). When that is not possible it is refused with
   * NftBatchTooLargeError unless this is set: then it is sent as consecutive batches, split
   * between operations — each atomic, the whole no longer. Default false.
   */
  splitOversizedBatches?: boolean;
  /** A lower batch size limit in bytes than the socket's (e.g. to leave the kernel headroom). */
  maxBatchBytes?: number;
  /**
   * Expressions → nft rule text for list() (default: this package's decompiler). A rule it throws
   * on is listed with its handle, comment and raw expressions and an empty `rule`.
   */
  decompileRule?: (expressions: Buffer, context: DecompileContext) => string;
  /**
   * runTable encodes a table's elements in slices of this many ms of the event loop, handing it
   * back between them (0: after every step of the table's). Default 8.
   */
  encodeSliceMs?: number;
}

/**
 * nftables over netlink: each transaction is one nf_tables batch (NFNL_MSG_BATCH_BEGIN … END),
 * which the kernel commits atomically; no `nft` process runs. Errors name the operation and the
 * kernel's errno. Implements the same NftablesInterface as the `nft`-binary NftablesClient.
 *
 * The client remembers the table's sets and maps (their key and value types encode elements);
 * it reads them from the kernel the first time it needs them and after a failed batch.
 */
export class NetlinkNftablesClient implements NftablesInterface {
  readonly family: NftFamily;
  readonly table: string;
  /** What the last run/check cost, by stage (undefined before the first). */
  lastBatch: NftBatchStats | undefined;
  private readonly options: NetlinkNftablesClientOptions;
  private session: Promise<NfnetlinkSession> | undefined;
  private sets: Map<string, KnownSet> | undefined;
  /** Element lists are written here, batch after batch (each message copies its list out). */
  private readonly elementList = new AttributeWriter(1024);
  /** The batch buffer between batches: a change's batch reuses it instead of reserving another. */
  private spareBatch: BatchBuffer | undefined;

  constructor(options: NetlinkNftablesClientOptions) {
    EventLoopSlices.checkSliceMs(options.encodeSliceMs, 'encodeSliceMs');
    this.family = options.family;
    this.table = options.table;
    this.options = options;
  }

  newTransaction(): NftTransaction {
    return new NftTransaction();
  }

  private open(): Promise<NfnetlinkSession> {
    this.session ??= (async () => {
      const { channel, netns } = this.options;
      const opened =
        channel === undefined
          ? netns !== undefined
            ? await NetnsChannel.open(netns.path, netns)
            : await NetlinkChannel.open()
          : typeof channel === 'function'
            ? await channel()
            : channel;
      return new NfnetlinkSession(opened);
    })().catch((err: unknown) => {
      this.session = undefined;
      throw err;
    });
    return this.session;
  }

  /**
   * Opens the socket and loads what a large batch's send needs (SO_SNDBUFFORCE's FFI), so a
   * first full sync does not: a caller with time to spare before it (kube-proxy waiting for its
   * informers) saves it there. Optional: everything is opened on first use anyway.
   */
  async prepare(): Promise<void> {
    const session = await this.open();
    await session.prepareFit();
  }

  async check(tx: NftTransaction): Promise<void> {
    await this.apply(tx, false);
  }

  async run(tx: NftTransaction): Promise<void> {
    if (tx.size === 0) return;
    await this.apply(tx, true);
  }

  /**
   * `run(table.fullTransaction())` in one batch, byte for byte, with the elements encoded
   * straight from the table's packed form (forEachPackedElement) when it has one, else from
   * its text (forEachElementText): no object and key/value arrays per element, most of a large
   * table's cost before the kernel (220k elements at 10k Services); packed, not even a string.
   */
  async runTable(
    table: Pick<IncrementalNftTable, 'fullStructure' | 'forEachElementText'> &
      Partial<Pick<IncrementalNftTable, 'forEachPackedElement' | 'packedElementSteps'>>,
  ): Promise<void> {
    // In steps where the table offers them: the encoding of a 250k-endpoint table hands the
    // event loop back every few milliseconds (the table must not change until it is sent).
    const elements: ElementSource = table.packedElementSteps
      ? { steps: (visit) => table.packedElementSteps?.(visit) ?? [] }
      : table.forEachPackedElement
        ? { packed: (visit) => table.forEachPackedElement?.(visit) }
        : { texts: (visit) => table.forEachElementText(visit) };
    await this.apply(table.fullStructure(), true, elements);
  }

  private async apply(tx: NftTransaction, commit: boolean, elements?: ElementSource): Promise<void> {
    const session = await this.open();
    const needsSets = elements !== undefined || tx.operations.some(usesSets);
    if (needsSets && this.sets === undefined) this.sets = await this.loadSets(session);
    // The encoder records the sets a batch declares or deletes in this map: then it works on a
    // copy, adopted once the kernel committed the batch. A batch of element and rule operations
    // (every endpoint change) leaves the map as it is and needs no copy.
    const declaresSets = tx.operations.some(changesSets);
    const sets = declaresSets ? new Map(this.sets ?? []) : (this.sets ?? new Map<string, KnownSet>());
    // The spare buffer, unless a batch still being sent holds it (runs may overlap).
    const batch = this.spareBatch ?? new BatchBuffer();
    this.spareBatch = undefined;
    try {
      const encodeStart = performance.now();
      const encodeCpu = process.cpuUsage();
      const ctx = {
        family: this.family,
        table: this.table,
        sets,
        compileRule: this.options.compileRule ?? defaultCompileRule,
        elementList: this.elementList,
        batch,
      };
      // What runs in the turns between the steps is not the encoding's: left out of its figures.
      let slices: EventLoopSlices | undefined;
      if (elements?.steps) {
        const steps = encodeOperationsInSteps(tx.operations, ctx, elements.steps);
        slices = new EventLoopSlices({ sliceMs: this.options.encodeSliceMs ?? ENCODE_SLICE_MS });
        while (!steps.next().done) if (slices.spent()) await slices.turn();
      } else encodeOperations(tx.operations, ctx, elements?.texts, elements?.packed);
      const encodeCpuUsage = process.cpuUsage(encodeCpu);
      this.lastBatch = {
        operations: tx.size,
        messages: batch.messages.length,
        bytes: batch.byteLength,
        encodeMs: performance.now() - encodeStart - (slices?.pausedMs ?? 0),
        encodeCpuMs: (encodeCpuUsage.user + encodeCpuUsage.system) / 1000 - (slices?.pausedCpuMs ?? 0),
        sendMs: 0,
      };
      const sendStart = performance.now();
      await this.send(session, batch, commit);
      this.lastBatch.sendMs = performance.now() - sendStart;
    } finally {
      // Its pages go back now, not when the collector finds the buffer.
      batch.release();
      this.spareBatch = batch;
    }
    if (commit && declaresSets) {
      // Ids were batch-local; from now on the sets are the kernel's, found by name.
      for (const [name, known] of sets) {
        if (known.setId === undefined) continue;
        const { setId: _batchLocal, ...rest } = known;
        sets.set(name, rest);
      }
      // Only a cache that started complete (read from the kernel) stays complete.
      if (this.sets !== undefined) this.sets = sets;
    }
  }

  /**
   * The encoded batch to the kernel: one datagram when it fits (the socket's limit raised to it
   * where the channel can, since one sendmsg keeps it atomic), else split between operations
   * when allowed, else refused. A kernel error names the operation of the message it refused.
   */
  private async send(session: NfnetlinkSession, batch: BatchBuffer, commit: boolean): Promise<void> {
    const ownLimit = this.options.maxBatchBytes ?? Number.POSITIVE_INFINITY;
    const total = batch.byteLength;
    if (total <= ownLimit) await session.fitDatagram(total);
    const limit = Math.min(
      session.maxDatagram > 0 ? session.maxDatagram : Number.POSITIVE_INFINITY,
      ownLimit,
    );
    const groups: [number, number][] =
      commit && this.options.splitOversizedBatches
        ? splitMessages(batch, limit)
        : [[0, batch.messages.length]];
    for (const [from, to] of groups) {
      const bytes = batch.bytesOf(from, to);
      if (bytes > limit) throw new NftBatchTooLargeError(bytes, limit);
    }
    for (let n = 0; n < groups.length; n++) {
      const [from, to] = groups[n] as [number, number];
      let outcome: BatchOutcome;
      try {
        outcome = await session.batch(batch, { commit, from, to });
      } catch (err) {
        this.sets = undefined;
        throw err;
      }
      const failures = failuresOf(batch, from, outcome.errors);
      if (outcome.batchErrno !== undefined || failures.length > 0) {
        this.sets = undefined;
        const [first, ...others] =
          failures.length > 0
            ? failures
            : [
                new NftKernelError(
                  'batch',
                  outcome.batchErrno as number,
                  errnoName(outcome.batchErrno as number),
                  -1,
                ),
              ];
        const committed = n > 0 ? ` after ${n} of ${groups.length} split batches were committed` : '';
        throw new NftKernelError(
          `${first!.operation}${committed}`,
          first!.errno,
          first!.errnoName,
          first!.index,
          others,
        );
      }
    }
  }

  private async loadSets(
    session: NfnetlinkSession,
    anonymous?: Map<string, KnownSet>,
  ): Promise<Map<string, KnownSet>> {
    const sets = new Map<string, KnownSet>();
    let replies: Buffer[];
    try {
      replies = await session.dump(
        nftMessageType(NftMsg.GETSET),
        NFPROTO[this.family],
        new AttributeWriter().string(NftaSet.TABLE, this.table).toBuffer(),
      );
    } catch (err) {
      if (err instanceof DumpError && err.errno === ENOENT) return sets;
      throw this.dumpError(err, `list sets ${this.family} ${this.table}`);
    }
    for (const body of replies) {
      const dumped = decodeSet(body, this.family);
      if (dumped.table !== this.table) continue;
      if (!dumped.anonymous) sets.set(dumped.set.name, dumped.known);
      else anonymous?.set(dumped.set.name, dumped.known);
    }
    return sets;
  }

  private dumpError(err: unknown, operation: string): unknown {
    return err instanceof DumpError
      ? new NftKernelError(operation, err.errno, errnoName(err.errno), -1)
      : err;
  }

  /** Does the table exist? */
  async exists(): Promise<boolean> {
    const session = await this.open();
    const tables = await session.dump(nftMessageType(NftMsg.GETTABLE), NFPROTO[this.family], Buffer.alloc(0));
    return tables.some((body) => decodeTable(body).name === this.table);
  }

  /**
   * Read the table back over netlink, without `nft`. Rules come back with handle, comment, their
   * raw expressions (`NetlinkRule.expressions`) and as text from the rule decompiler ('' for
   * expressions it cannot print).
   */
  async list(): Promise<NftRuleset> {
    const session = await this.open();
    const family = NFPROTO[this.family];
    const tables = await session.dump(nftMessageType(NftMsg.GETTABLE), family, Buffer.alloc(0));
    const table = tables.map(decodeTable).find((t) => t.name === this.table);
    if (!table)
      throw new NftKernelError(`list table ${this.family} ${this.table}`, ENOENT, errnoName(ENOENT), -1);
    const ruleset: NftRuleset = {
      family: this.family,
      table: this.table,
      ...(table.comment !== undefined ? { comment: table.comment } : {}),
      chains: [],
      rules: {},
      sets: [],
      maps: [],
      elements: {},
    };
    const chains = await session.dump(nftMessageType(NftMsg.GETCHAIN), family, Buffer.alloc(0));
    for (const body of chains) {
      const { table: owner, chain } = decodeChain(this.family, body);
      if (owner === this.table) ruleset.chains.push(chain as NftChain);
    }
    const anonymous = new Map<string, KnownSet>();
    const sets = await this.loadSets(session, anonymous);
    this.sets = new Map(sets);
    const elementBodies = (known: KnownSet) =>
      session
        .dump(
          nftMessageType(NftMsg.GETSETELEM),
          family,
          new AttributeWriter()
            .string(NftaSetElemList.TABLE, this.table)
            .string(NftaSetElemList.SET, known.name)
            .toBuffer(),
        )
        .catch((err: unknown) => {
          throw this.dumpError(err, `list ${known.kind} ${this.family} ${this.table} ${known.name}`);
        });
    for (const known of sets.values()) {
      const declaration = known.declaration;
      if (declaration?.kind === 'map') ruleset.maps.push(declaration);
      else if (declaration?.kind === 'set') ruleset.sets.push(declaration);
      const replies = await elementBodies(known);
      const elements: NftElement[] = replies.flatMap((body) => decodeElements(known, body));
      ruleset.elements[known.name] = elements;
    }
    const rules = await session.dump(
      nftMessageType(NftMsg.GETRULE),
      family,
      new AttributeWriter().string(NftaRule.TABLE, this.table).toBuffer(),
    );
    for (const chain of ruleset.chains) ruleset.rules[chain.name] = [];
    // The rules' anonymous sets and maps (`{ tcp, udp }`), for the decompiler to print inline.
    const anonymousSets = new Map<string, AnonymousSetContents>();
    for (const known of anonymous.values())
      anonymousSets.set(known.name, rawElements(known, await elementBodies(known)));
    const decompile = this.options.decompileRule ?? defaultDecompileRule;
    for (const body of rules) {
      const { table: owner, rule } = decodeRule(body);
      if (owner !== this.table) continue;
      try {
        rule.rule = decompile(rule.expressions, { family: this.family, chain: rule.chain, anonymousSets });
      } catch {
        // Expressions the decompiler cannot print: the rule keeps its raw expressions and ''.
      }
      const chainRules = ruleset.rules[rule.chain] ?? [];
      ruleset.rules[rule.chain] = chainRules;
      chainRules.push(rule as NetlinkRule);
    }
    return ruleset;
  }

  /** Close the socket (or stop the relay). The client opens a new one if used again. */
  async close(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    this.sets = undefined;
    if (session) (await session.catch(() => undefined))?.close();
  }
}

/** A table's elements for runTable: as text, or packed. */
interface ElementSource {
  texts?: NftElementTextSource;
  packed?: NftPackedElementSource;
  steps?: NftPackedElementSteps;
}

/** How long a full table's encoding runs before it hands the event loop back (ms). */
const ENCODE_SLICE_MS = 8;

/** Operations whose encoding looks up the table's sets (element keys, rules naming @sets). */
const usesSets = (op: NftOperation) => op.object.kind === 'element' || op.object.kind === 'rule';

/** Operations that declare or delete sets (a table's delete forgets them all). */
const changesSets = (op: NftOperation) =>
  op.object.kind === 'set' || op.object.kind === 'map' || op.object.kind === 'table';

/** NetlinkNftablesClient.lastBatch: the size of a transaction's batch and where its time went. */
export interface NftBatchStats {
  /** Operations of the transaction (for runTable: its structure; the elements are in messages and bytes). */
  operations: number;
  /** nf_tables messages they became (element runs merge, rules may add anonymous sets). */
  messages: number;
  /** Bytes of the batch datagram(s). */
  bytes: number;
  /** Wall-clock ms of compiling rules and encoding the messages (synchronous work of this thread). */
  encodeMs: number;
  /** The process's CPU ms meanwhile (with a loaded machine's preemption left out; GC threads in). */
  encodeCpuMs: number;
  /** From the first sendmsg (the kernel checks and commits the batch inside it) to the last reply. */
  sendMs: number;
}

/** The kernel's errors for messages `from` … of the batch, each naming its message's operation. */
function failuresOf(
  batch: BatchBuffer,
  from: number,
  errors: readonly (number | undefined)[],
): NftKernelError[] {
  const failures: NftKernelError[] = [];
  for (let i = 0; i < errors.length; i++) {
    const errno = errors[i];
    if (errno === undefined) continue;
    const message = batch.messages[from + i] as BatchMessage;
    failures.push(new NftKernelError(message.operation, errno, errnoName(errno), message.index));
  }
  return failures;
}

/**
 * Cut the batch's messages into ranges [from, to) that each fit one datagram, only between
 * operations (an operation's anonymous sets stay with its rule). One operation bigger than the
 * limit is left whole, for the caller to refuse.
 */
function splitMessages(batch: BatchBuffer, maxDatagram: number): [number, number][] {
  const messages = batch.messages;
  if (!Number.isFinite(maxDatagram)) return [[0, messages.length]];
  const budget = maxDatagram - NfnetlinkSession.BATCH_OVERHEAD;
  const groups: [number, number][] = [];
  let start = 0;
  let size = 0;
  let i = 0;
  while (i < messages.length) {
    // The messages of one operation (same index) travel together.
    const index = (messages[i] as BatchMessage).index;
    let j = i;
    let opSize = 0;
    while (j < messages.length && (messages[j] as BatchMessage).index === index) {
      opSize += (messages[j] as BatchMessage).length;
      j++;
    }
    if (i > start && size + opSize > budget) {
      groups.push([start, i]);
      start = i;
      size = 0;
    }
    size += opSize;
    i = j;
  }
  if (i > start) groups.push([start, i]);
  return groups;
}
