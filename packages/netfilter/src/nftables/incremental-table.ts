import { ContainerCodes, NftElementPacker, type NftPackedElements } from './element-packer';
import type { NftElementTextVisitor } from './element-text';
import { ElementTextBatch } from './element-text-batch';
import { type ElementMap, IdTable } from './id-table';
import type { NftChain, NftElement, NftFamily, NftMap, NftSet, NftTable } from './model';
import type { NftPackedElementVisitor } from './packed-element';
import { CONTAINER_CODES, FIRST_CONTAINER_CODE, readPackedTail, ID_SEP as SEP } from './packed-element-form';
import { Unpacker } from './packed-parts';
import {
  MAX_ELEMENTS_PER_COMMAND,
  renderElementAdds,
  renderElementText,
  renderScript,
} from './render-script';
import { setCapacity } from './set-capacity';
import { NftTransaction } from './transaction';

/** One rule of a chain, without the chain name (the chain owns its rule list). */
export interface NftRuleBody {
  readonly rule: string;
  readonly comment?: string;
}

/** A chain with its complete rule list: a contribution always states every rule of a chain. */
export interface NftChainContents {
  readonly chain: NftChain;
  readonly rules: readonly NftRuleBody[];
}

/**
 * What one owner (e.g. one service) puts into a table. Several owners may contribute the same
 * chain, set or element (shared objects): the object stays while any owner still contributes it,
 * and the first contributor's version is the one in the table.
 */
export interface NftContribution {
  readonly chains?: readonly NftChainContents[];
  readonly sets?: readonly (NftSet | NftMap)[];
  readonly elements?: readonly NftElement[];
  /**
   * Elements already in the table's packed form (its `packer`), instead of `elements`: no
   * element object or part text made per element (a full build at 250k endpoints has 510k).
   */
  readonly packedElements?: NftPackedElements;
}

/** What the table keeps of one owner: its chains and sets as given, its elements by id. */
interface OwnerRecord {
  readonly chains: readonly NftChainContents[];
  readonly sets: readonly (NftSet | NftMap)[];
  readonly elementIds: readonly string[];
}

const NONE: readonly never[] = [];

interface Entry<T> {
  readonly owner: string;
  readonly value: T;
}

/**
 * Objects of one kind by id, each with the owners contributing it, and the ids changed since
 * the last commit together with what they were then (null: absent).
 */
class Registry<T> {
  // Most ids have a single owner: keep that entry unwrapped to spare a map per object. Shared
  // ones (kube-proxy's endpoint-count chains: one owner per Service using it, 10k at 10k
  // Services) map owner → value, so an owner's removal is not a search of every owner.
  // Maps keep insertion order: the first remaining contributor's value is the table's.
  readonly entries = new Map<string, Entry<T> | Map<string, T>>();
  readonly dirty = new Map<string, T | null>();
  /** Off until the first commit: before it there is nothing to diff against. */
  tracking = false;

  current(id: string): T | undefined {
    const e = this.entries.get(id);
    if (e === undefined) return undefined;
    if (e instanceof Map) {
      for (const value of e.values()) return value;
      return undefined;
    }
    return e.value;
  }

  private touch(id: string): void {
    if (this.tracking && !this.dirty.has(id)) this.dirty.set(id, this.current(id) ?? null);
  }

  /** What is current now is what the kernel holds: record changes from here. */
  commit(): void {
    // clear() allocates a fresh table, even for an empty Map.
    if (this.dirty.size > 0) this.dirty.clear();
    this.tracking = true;
  }

  add(id: string, owner: string, value: T): void {
    this.touch(id);
    const e = this.entries.get(id);
    if (e === undefined) this.entries.set(id, { owner, value });
    else if (e instanceof Map) {
      if (!e.has(owner)) e.set(owner, value);
    } else if (e.owner !== owner)
      this.entries.set(
        id,
        new Map([
          [e.owner, e.value],
          [owner, value],
        ]),
      );
  }

  remove(id: string, owner: string): void {
    const e = this.entries.get(id);
    if (e === undefined) return;
    this.touch(id);
    if (!(e instanceof Map)) {
      if (e.owner === owner) this.entries.delete(id);
      return;
    }
    e.delete(owner);
    if (e.size === 0) this.entries.delete(id);
  }

  values(): T[] {
    const out: T[] = [];
    for (const id of this.entries.keys()) out.push(this.current(id) as T);
    return out;
  }
}

// Elements are most of a large table (102 per Service at 5k Services × 50 endpoints: 510k), so
// the table keeps each as two flat strings rather than an object with key and value arrays: its
// id, container code and packed key (`<code>\0<key>`, packed-parts.ts), and the rest, the packed
// value alone when there is neither comment nor timeout, else the packed value, PACKED_END,
// comment, \0 and timeout (packed-element-form.ts; element-packer.ts builds both).

/** The one buffer ids and rests are unpacked in. */
const unpacker = new Unpacker();

/** The key text (parts joined by ` . `) of the element `id`. */
const keyText = (id: string) => unpacker.text(id, id.indexOf(SEP) + 1);

/** A rest text taken apart (one reused object: read it before the next call). */
const restParts = {
  value: '',
  comment: undefined as string | undefined,
  timeout: undefined as string | undefined,
};

/** Fills restParts from `rest`: value text (parts joined by ` . `), comment and timeout. */
function readRest(rest: string): typeof restParts {
  if (rest === '') {
    restParts.value = '';
    return readPackedTail(rest, rest.length, restParts);
  }
  restParts.value = unpacker.text(rest, 0);
  return readPackedTail(rest, unpacker.end, restParts);
}

/** What replaceElements does with an old element id at the same position as a new element. */
const REPLACE = 0;
const KEEP = 1;
const NEW_TEXT = 2;

const chainName = (c: NftChainContents) => c.chain.name;
const setName = (s: NftSet | NftMap) => s.name;

/**
 * Replace an owner's chains or sets `before` with `after` in `registry`: an object at the same
 * position that is the very same object stays untouched (no change recorded, its place among
 * a shared object's owners kept); the others are removed, then the new ones added.
 */
function replaceObjects<T>(
  registry: Registry<T>,
  owner: string,
  before: readonly T[],
  after: readonly T[],
  name: (object: T) => string,
): void {
  for (let i = 0; i < before.length; i++)
    if (before[i] !== after[i]) registry.remove(name(before[i]!), owner);
  for (let i = 0; i < after.length; i++)
    if (after[i] !== before[i]) registry.add(name(after[i]!), owner, after[i]!);
}

/** An element as `add element … { … }` lists it (renderElementText), from its id and rest text. */
function elementText(id: string, rest: string): string {
  const key = keyText(id);
  const { value, comment, timeout } = readRest(rest);
  return renderElementText(key, value, comment, timeout);
}

function decodeElement(containers: ContainerCodes, id: string, rest: string): NftElement {
  const element: { -readonly [K in keyof NftElement]: NftElement[K] } = {
    kind: 'element',
    container: containers.name(id.slice(0, id.indexOf(SEP))),
    key: keyText(id).split(' . '),
  };
  const { value, comment, timeout } = readRest(rest);
  if (value) element.value = value.split(' . ');
  if (comment !== undefined) element.comment = comment;
  if (timeout !== undefined) element.timeout = timeout;
  return element;
}

/** One element id's entry: its sole contributor's rest text, or every contributor's. */
type ElementEntry = string | { owner: string | undefined; rest: string }[];

/** Entry `e` with one more contributor, `owner` giving `rest` (the first one's owner stays unknown). */
function withContributor(e: ElementEntry, rest: string, owner: string): ElementEntry {
  if (typeof e === 'string')
    return [
      { owner: undefined, rest: e },
      { owner, rest },
    ];
  e.push({ owner, rest });
  return e;
}

/**
 * Elements by id, each with the rest text of its contributors. Most ids have one owner: that
 * entry is the bare rest string, with no owner recorded (an owner only removes ids it added,
 * so removing a bare entry needs no check). When a second owner adds the id the entry becomes
 * a list, whose first item's owner stays unknown (undefined): a removal by an owner not named
 * in the list is that first owner's. The first contributor's rest is the table's.
 *
 * One map per container, in the order the containers got their first element: a full sync
 * walks them as they are, where one map of every element had to be grouped by container into
 * lists first (4M references, 32-64 MB of heap alive through the encoding at 1M endpoints),
 * and a container's count is its map's size. A map per container also grows in smaller steps:
 * a Map's backing store is one object that doubles, the old one alive until the copy is done.
 */
class ElementRegistry {
  /** Each container's map by code, in the order they were made (a full sync's order). */
  readonly byContainer = new Map<string, ElementMap<ElementEntry, string>>();
  /** The same maps by code index, for one-character codes: no slice per lookup. */
  private readonly byIndex: (ElementMap<ElementEntry, string> | undefined)[] = [];
  readonly dirty = new Map<string, string | null>();
  /** Off until the first commit: before it there is nothing to diff against. */
  tracking = false;

  /** How many ids the container with `code` holds (what the kernel holds once committed). */
  count(code: string): number {
    return this.byContainer.get(code)?.size ?? 0;
  }

  /** The map of the container `id` belongs to, if it has one. */
  private mapOf(id: string): ElementMap<ElementEntry, string> | undefined {
    const index = id.charCodeAt(0) - FIRST_CONTAINER_CODE;
    if (index >= 0 && index < CONTAINER_CODES && id.charCodeAt(1) === 0) return this.byIndex[index];
    return this.byContainer.get(id.slice(0, id.indexOf(SEP)));
  }

  /** The map of `id`'s container, made when it is the container's first element. */
  private mapFor(id: string): ElementMap<ElementEntry, string> {
    const held = this.mapOf(id);
    if (held !== undefined) return held;
    const code = id.slice(0, id.indexOf(SEP));
    // Not a Map: see IdTable (what a Map leaves behind as it grows, at 1M elements). An appended
    // id found held joins the entry as add() joins it (add appends bare rest strings).
    const map = new IdTable<ElementEntry, string>((e, rest, owner) =>
      withContributor(e, rest as string, owner),
    );
    this.byContainer.set(code, map);
    if (code.length === 1) this.byIndex[code.charCodeAt(0) - FIRST_CONTAINER_CODE] = map;
    return map;
  }

  entry(id: string): ElementEntry | undefined {
    return this.mapOf(id)?.get(id);
  }

  current(id: string): string | undefined {
    const e = this.entry(id);
    if (e === undefined) return undefined;
    return typeof e === 'string' ? e : e[0]?.rest;
  }

  private touch(id: string): void {
    if (this.tracking && !this.dirty.has(id)) this.dirty.set(id, this.current(id) ?? null);
  }

  /** What is current now is what the kernel holds: record changes from here. */
  commit(): void {
    // clear() allocates a fresh table, even for an empty Map.
    if (this.dirty.size > 0) this.dirty.clear();
    this.tracking = true;
  }

  add(id: string, owner: string, rest: string): void {
    const map = this.mapFor(id);
    // Before the first commit nothing is tracked: the table is being filled (a first sync adds
    // ~2M ids at 1M endpoints), so each container's index is built once, when first read, at
    // its final size (IdTable.append), instead of doubling as it fills.
    if (!this.tracking) {
      map.append(id, rest, owner);
      return;
    }
    this.touch(id);
    const e = map.getOrAdd(id, rest);
    if (e === undefined) return;
    const joined = withContributor(e, rest, owner);
    if (joined !== e) map.set(id, joined);
  }

  /** New texts for an id whose only contributor keeps it: the entry stays in its place. */
  replaceSole(id: string, rest: string): void {
    this.touch(id);
    this.mapFor(id).set(id, rest);
  }

  remove(id: string, owner: string): void {
    const map = this.mapOf(id);
    const e = map?.get(id);
    if (map === undefined || e === undefined) return;
    this.touch(id);
    if (typeof e === 'string') {
      map.delete(id);
      return;
    }
    let i = e.findIndex((x) => x.owner === owner);
    if (i < 0) i = e.findIndex((x) => x.owner === undefined);
    if (i >= 0) e.splice(i, 1);
    if (e.length === 0) map.delete(id);
  }
}

/**
 * Elements grouped by container name, in place and stable (equal containers keep their
 * order). A diff's few adds go through an insertion sort; Array#sort copies the array first.
 */
/** What diffElement reads and writes: one diff's table, its transaction and the elements to add. */
interface ElementDiff {
  readonly elements: ElementRegistry;
  readonly containers: ContainerCodes;
  /** Sets the diff deletes whole: their elements go with them. */
  readonly staleSetNames: ReadonlySet<string> | undefined;
  readonly tx: NftTransaction;
  readonly adds: NftElement[];
}

/**
 * One changed element of a diff, as `dirty.forEach`'s callback with the diff as `this`: a
 * function of its own rather than a closure made per diff, as V8 compiled such a closure again
 * for each new one that grew hot (about once a minute under churn).
 */
function diffElement(this: ElementDiff, before: string | null, id: string): void {
  // Rest texts are equal exactly when value, comment and timeout are.
  const now = this.elements.current(id);
  if (before === now) return;
  if (before !== null) {
    const container = this.containers.name(id.slice(0, id.indexOf(SEP)));
    if (!this.staleSetNames?.has(container))
      this.tx.delete({ kind: 'element', container, key: keyText(id).split(' . ') });
  }
  if (now !== undefined) this.adds.push(decodeElement(this.containers, id, now));
}

function sortByContainer(elements: NftElement[]): void {
  if (elements.length > 16) {
    elements.sort((a, b) => (a.container < b.container ? -1 : a.container > b.container ? 1 : 0));
    return;
  }
  for (let i = 1; i < elements.length; i++) {
    const e = elements[i]!;
    let j = i - 1;
    while (j >= 0 && elements[j]!.container > e.container) {
      elements[j + 1] = elements[j]!;
      j--;
    }
    elements[j + 1] = e;
  }
}

const sameRules = (a: readonly NftRuleBody[], b: readonly NftRuleBody[]) =>
  a.length === b.length && a.every((r, i) => r.rule === b[i]!.rule && r.comment === b[i]!.comment);

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Field by field: every Service sharing a chain hands in its own copy (JSON.stringify of both cost more than the rest of set()). */
const sameChain = (a: NftChain, b: NftChain) =>
  a === b ||
  (a.name === b.name &&
    a.type === b.type &&
    a.hook === b.hook &&
    a.priority === b.priority &&
    a.policy === b.policy &&
    a.device === b.device &&
    a.comment === b.comment);

function ruleOps(tx: NftTransaction, c: NftChainContents): void {
  for (const r of c.rules)
    tx.add({
      kind: 'rule',
      chain: c.chain.name,
      rule: r.rule,
      ...(r.comment !== undefined ? { comment: r.comment } : {}),
    });
}

/** Options of an IncrementalNftTable. */
export interface IncrementalNftTableOptions {
  /**
   * Declare a set or map that a full replacement fills with 16,384 elements or more with a
   * size (twice its elements, rounded up to a power of two) when the model gives it none: the
   * kernel then sizes its hash table at once instead of growing it insert by insert inside the
   * batch (set-capacity.ts: half the kernel's time of a 510k-element sync). The size is also
   * the kernel's limit for the set, so a diff that would take a set past the size it was last
   * declared with is refused (`diffTransaction()` returns undefined: replace the table).
   * Default false: sets as the model declares them.
   */
  sizeLargeSets?: boolean;
}

/** Elements per step of packedElementSteps: about a millisecond of encoding. */
const PACKED_STEP_ELEMENTS = 4096;

/**
 * The desired contents of one nftables table, kept as per-owner contributions so that a change
 * of one owner becomes a transaction touching only what that owner changed: element adds and
 * deletes, rewrites of the chains whose rules changed, new and stale chains and sets.
 *
 * `fullTransaction()` replaces the whole table (start-up, after a failure, periodic repair);
 * `diffTransaction()` turns what was last committed into the current contents; `commit()` says
 * the kernel now holds the current contents. Until the first commit only a full transaction
 * exists (and changes are not tracked, which keeps building a large table cheap).
 */
export class IncrementalNftTable {
  private readonly owners = new Map<string, OwnerRecord>();
  private readonly chains = new Registry<NftChainContents>();
  private readonly sets = new Registry<NftSet | NftMap>();
  private readonly elements = new ElementRegistry();
  private readonly containers = new ContainerCodes();
  /** Packs elements for `set(owner, { packedElements })`. */
  readonly packer = new NftElementPacker(this.containers);
  /** Packs the elements of contributions given as objects (never mid-element, unlike `packer` may be). */
  private readonly ownPacker = new NftElementPacker(this.containers);
  /** Sizes the last full structure gave its sets, by name: the kernel's once it is committed. */
  private pendingSizes: Map<string, number> | undefined;
  /** Sizes the kernel's sets were declared with by the last committed full replacement. */
  private declaredSizes = new Map<string, number>();

  constructor(
    private readonly table: NftTable = { kind: 'table' },
    private readonly options: IncrementalNftTableOptions = {},
  ) {}

  /**
   * Replace what `owner` contributes; undefined removes the owner. What the owner gives again
   * unchanged (the same chain or set object, an element with the same key and texts at the
   * same position) is left as it is: no change is recorded for it, so rewriting a Service
   * whose one endpoint moved changes that endpoint's elements, not all 22. Elements given as
   * objects are packed here (the table's own packer); `packedElements` come packed already.
   */
  set(owner: string, contribution: NftContribution | undefined): void {
    const old = this.owners.get(owner);
    if (!contribution) {
      if (!old) return;
      for (const c of old.chains) this.chains.remove(c.chain.name, owner);
      for (const s of old.sets) this.sets.remove(s.name, owner);
      for (const id of old.elementIds) this.elements.remove(id, owner);
      this.owners.delete(owner);
      return;
    }
    // Owners sharing a chain usually give equal copies of it: keep the one already held.
    const chains = contribution.chains?.length ? contribution.chains.map((c) => this.sharedChain(c)) : NONE;
    const sets = contribution.sets?.length ? contribution.sets : NONE;
    replaceObjects(this.chains, owner, old?.chains ?? NONE, chains, chainName);
    replaceObjects(this.sets, owner, old?.sets ?? NONE, sets, setName);
    const elementIds = this.replaceElements(owner, old?.elementIds ?? NONE, this.packedOf(contribution));
    this.owners.set(owner, { chains, sets, elementIds });
  }

  /**
   * `owner`'s element ids after replacing its elements `before` (ids) with `packed`: first each
   * position is compared (KEEP: same id and rest; NEW_TEXT: same id, the id's only contributor,
   * another rest), then the other old ids are removed and the new elements added. Returns
   * `before` itself when every element stayed, else packed's ids (kept positions holding the
   * old id strings, so the table keeps one copy of each).
   */
  private replaceElements(
    owner: string,
    before: readonly string[],
    packed: NftPackedElements,
  ): readonly string[] {
    const registry = this.elements;
    const { ids, rests } = packed;
    const common = Math.min(before.length, ids.length);
    const fate = this.fateScratch(common);
    let kept = 0;
    for (let i = 0; i < common; i++) {
      const id = before[i]!;
      const held = registry.entry(id);
      // A shared id (a list of contributors) is always removed and added again.
      fate[i] = typeof held !== 'string' || id !== ids[i] ? REPLACE : held === rests[i] ? KEEP : NEW_TEXT;
      if (fate[i] === KEEP) kept++;
    }
    if (kept === before.length && kept === ids.length) return before;
    // Old ids in their order (the diff's deletes come in the order changes were recorded).
    for (let i = 0; i < before.length; i++) {
      if (i >= common || fate[i] === REPLACE) registry.remove(before[i]!, owner);
      else if (fate[i] === NEW_TEXT) registry.replaceSole(before[i]!, rests[i]!);
    }
    for (let i = 0; i < ids.length; i++) {
      if (i < common && fate[i] !== REPLACE) ids[i] = before[i]!;
      else registry.add(ids[i]!, owner, rests[i]!);
    }
    // Kept as it is: the packer's take() hands each list over at its final size (a list grown by
    // pushes kept ~25% of unused capacity for the life of the table).
    return ids;
  }

  /** `contribution`'s elements in this table's packed form. */
  private packedOf(contribution: NftContribution): NftPackedElements {
    const packed = contribution.packedElements;
    if (packed === undefined) {
      for (const e of contribution.elements ?? NONE)
        this.ownPacker.element(e.container, e.key, e.value, e.comment, e.timeout);
      return this.ownPacker.take();
    }
    if (packed.packer !== this.packer) throw new Error("packed elements from another table's packer");
    if (contribution.elements?.length)
      throw new Error('a contribution has elements or packed elements, not both');
    return packed;
  }

  /** A reused array of at least `n` element fates (no allocation per set()). */
  private fates = new Uint8Array(64);
  private fateScratch(n: number): Uint8Array {
    if (this.fates.length < n) this.fates = new Uint8Array(Math.max(n, 2 * this.fates.length));
    return this.fates;
  }

  /** The chain already in the table when it equals `c` (same definition and rules), else `c`. */
  private sharedChain(c: NftChainContents): NftChainContents {
    const held = this.chains.current(c.chain.name);
    if (held === undefined || held === c) return c;
    return sameChain(held.chain, c.chain) && sameRules(held.rules, c.rules) ? held : c;
  }

  /** What `owner` contributes (elements rebuilt from the table's compact form). */
  get(owner: string): NftContribution | undefined {
    const r = this.owners.get(owner);
    if (!r) return undefined;
    const elements = r.elementIds.map((id) => {
      const e = this.elements.entry(id);
      const rest = typeof e === 'string' ? e : (e?.find((x) => x.owner === owner) ?? e?.[0])?.rest;
      return decodeElement(this.containers, id, rest ?? '');
    });
    return { chains: r.chains, sets: r.sets, elements };
  }

  /** The names of the owners that currently hold objects in the table. */
  ownerNames(): IterableIterator<string> {
    return this.owners.keys();
  }

  /** Whether anything changed since the last commit that would make the diff non-empty. */
  get dirtyCount(): number {
    return this.chains.dirty.size + this.sets.dirty.size + this.elements.dirty.size;
  }

  /**
   * A transaction that replaces the table with the current contents, atomically whether or not
   * the table exists: add, delete, add the table, then sets, chains, rules and elements.
   */
  fullTransaction(): NftTransaction {
    const tx = this.fullStructure();
    // Container by container, so the renderer can merge them into a few long commands.
    for (const map of this.elements.byContainer.values())
      map.forEach((e, id) => {
        tx.add(decodeElement(this.containers, id, typeof e === 'string' ? e : e[0]!.rest));
      });
    return tx;
  }

  /**
   * fullTransaction() without its elements: the table, sets, chains and rules. With
   * forEachElementText after it, the same contents for a client that takes elements as text
   * (NetlinkNftablesClient.runTable) instead of one object and two arrays per element.
   */
  fullStructure(): NftTransaction {
    const tx = new NftTransaction();
    tx.add(this.table).delete({ kind: 'table' }).add(this.table);
    const sizes = new Map<string, number>();
    for (const s of this.sets.values()) tx.add(this.sized(s, sizes));
    this.pendingSizes = sizes;
    const chains = this.chains.values();
    for (const c of chains) tx.add(c.chain);
    for (const c of chains) ruleOps(tx, c);
    return tx;
  }

  /** `set` as a full replacement declares it: with a size when it is large (options.sizeLargeSets). */
  private sized(set: NftSet | NftMap, sizes: Map<string, number>): NftSet | NftMap {
    if (!this.options.sizeLargeSets || set.size !== undefined) return set;
    const code = this.containers.known(set.name);
    const size = code === undefined ? undefined : setCapacity(this.elements.count(code));
    if (size === undefined) return set;
    sizes.set(set.name, size);
    return { ...set, size };
  }

  /** Whether a set holds more elements than the kernel's was declared for (see sizeLargeSets). */
  private outgrown(): boolean {
    for (const [name, size] of this.declaredSizes) {
      const code = this.containers.known(name);
      if (code !== undefined && this.elements.count(code) > size) return true;
    }
    return false;
  }

  /**
   * Every element of the table as text, container by container, in fullTransaction()'s order:
   * `visit(container, key, value, comment, timeout)` with key and value the parts joined by
   * ` . ` (value '' for set elements). Per element only its key text and (maps) value text are allocated.
   */
  forEachElementText(visit: NftElementTextVisitor): void {
    const batch = new ElementTextBatch(unpacker, visit);
    for (const [code, map] of this.elements.byContainer) {
      batch.of(this.containers.name(code));
      // forEach: no [id, entry] pair per element.
      map.forEach((e, id) => {
        batch.add(id, typeof e === 'string' ? e : e[0]!.rest);
      });
      batch.flush();
    }
  }

  /**
   * forEachElementText's elements in their packed form: `visit(container, id, keyAt, rest)`,
   * the key packed in `id` from `keyAt` (packed-element.ts). Nothing is allocated per element:
   * the netlink encoder writes most of them straight from these strings.
   */
  forEachPackedElement(visit: NftPackedElementVisitor): void {
    for (const _ of this.packedElementSteps(visit));
  }

  /**
   * Builds the element indexes a first fill left to build (IdTable.append: every read would
   * build a container's whole index at once, ~0.1 s of the main thread at 250k endpoints) in
   * steps of at most `slice` elements. Nothing changes for readers: only when the work is done.
   */
  *indexSteps(slice = PACKED_STEP_ELEMENTS): Generator<void> {
    for (const map of this.elements.byContainer.values()) while (!map.indexAppendedSome(slice)) yield;
  }

  /**
   * forEachPackedElement in steps of at most `slice` elements (NftPackedElementSteps): a full
   * sync's encoder hands the event loop back between them. The table must not change until
   * the last step.
   */
  *packedElementSteps(visit: NftPackedElementVisitor, slice = PACKED_STEP_ELEMENTS): Generator<void> {
    for (const [code, map] of this.elements.byContainer) {
      const container = this.containers.name(code);
      // Every id of the container is its code, \0, then the packed key.
      const keyAt = code.length + 1;
      const each = (e: ElementEntry, id: string) =>
        visit(container, id, keyAt, typeof e === 'string' ? e : e[0]!.rest);
      for (let at = map.forEachFrom(0, slice, each); at >= 0; at = map.forEachFrom(at, slice, each)) yield;
    }
  }

  /**
   * `renderScript(family, table, fullTransaction(), { emulateDestroy: false })`, byte for byte,
   * with the elements rendered straight from the table's compact text: no operation objects,
   * key and value arrays for every element (at 1k Services 22k elements, ~6 MiB of objects
   * and as much garbage from rendering them, all alive until the script is joined).
   */
  fullScript(family: NftFamily, table: string): string {
    const parts = [renderScript(family, table, this.fullStructure(), { emulateDestroy: false })];
    // Rendered one command's worth at a time, so only one command's element texts exist at once.
    for (const [code, map] of this.elements.byContainer) {
      const container = this.containers.name(code);
      let items: string[] = [];
      map.forEach((e, id) => {
        items.push(elementText(id, typeof e === 'string' ? e : e[0]!.rest));
        if (items.length === MAX_ELEMENTS_PER_COMMAND) {
          parts.push(renderElementAdds(family, table, container, items));
          items = [];
        }
      });
      if (items.length > 0) parts.push(renderElementAdds(family, table, container, items));
    }
    return parts.join('');
  }

  /**
   * The transaction turning the last committed contents into the current ones, or undefined
   * when a set or map changed its definition (that needs `fullTransaction()`: rules still
   * referencing the old set would block deleting it) or a set would outgrow the size the last
   * full replacement declared it with (IncrementalNftTableOptions.sizeLargeSets). Order: new sets and chains, rewritten
   * chains' rules, element deletes then adds, then stale chains (flushed first, since they may
   * reference each other) and stale sets, once nothing refers to them any more.
   */
  diffTransaction(): NftTransaction | undefined {
    if (!this.elements.tracking) return undefined;
    // What goes to the kernel next is a diff (or nothing): the sets keep their declared sizes.
    this.pendingSizes = undefined;
    if (this.outgrown()) return undefined;
    const newSets: (NftSet | NftMap)[] = [];
    const staleSets: (NftSet | NftMap)[] = [];
    for (const [name, before] of this.sets.dirty) {
      const now = this.sets.current(name);
      if (before && now && !sameJson(before, now)) return undefined;
      if (!before && now) newSets.push(now);
      if (before && !now) staleSets.push(before);
    }
    const tx = new NftTransaction();
    for (const s of newSets) tx.add(s);
    const rewritten: NftChainContents[] = [];
    const staleChains: NftChainContents[] = [];
    for (const [name, before] of this.chains.dirty) {
      const now = this.chains.current(name);
      if (!now) {
        if (before) staleChains.push(before);
        continue;
      }
      if (!before) tx.add(now.chain);
      else if (!sameChain(before.chain, now.chain)) return undefined;
      if (before && sameRules(before.rules, now.rules)) continue;
      rewritten.push(now);
      if (before && before.rules.length > 0) tx.flush({ kind: 'chain', name });
    }
    for (const c of rewritten) ruleOps(tx, c);
    const staleSetNames = staleSets.length > 0 ? new Set(staleSets.map((s) => s.name)) : undefined;
    const adds: NftElement[] = [];
    // forEach: no [id, before] pair per changed element.
    const diff: ElementDiff = {
      elements: this.elements,
      containers: this.containers,
      staleSetNames,
      tx,
      adds,
    };
    this.elements.dirty.forEach(diffElement, diff);
    sortByContainer(adds);
    for (const e of adds) tx.add(e);
    for (const c of staleChains) if (c.rules.length > 0) tx.flush({ kind: 'chain', name: c.chain.name });
    for (const c of staleChains) tx.delete({ kind: 'chain', name: c.chain.name });
    for (const s of staleSets) tx.delete(s);
    return tx;
  }

  /** The kernel now holds the current contents: later diffs start from here. */
  commit(): void {
    if (this.pendingSizes) this.declaredSizes = this.pendingSizes;
    this.pendingSizes = undefined;
    this.chains.commit();
    this.sets.commit();
    this.elements.commit();
  }
}
