import { InvalidFieldError, ObjectReferenceError } from '../errors';
import type {
  NftChain,
  NftElement,
  NftFamily,
  NftMap,
  NftObject,
  NftRule,
  NftRuleset,
  NftSet,
} from './model';
import { NFT_NAME_LENGTH_MAX } from './model';
import type { NftablesInterface } from './nftables-interface';
import { parseScript } from './parse-script';
import { chainReferences, NFT_NAME_PATTERN, setReferences } from './references';
import { renderScript } from './render-script';
import { type NftOperation, NftTransaction } from './transaction';

interface ChainState {
  chain: NftChain;
  rules: NftRule[];
}

interface SetState {
  def: NftSet | NftMap;
  elements: Map<string, NftElement>;
}

interface TableState {
  comment?: string;
  chains: Map<string, ChainState>;
  sets: Map<string, SetState>;
}

const keyOf = (element: NftElement) => element.key.join(' . ');

/**
 * An in-memory nftables table with the same interface as NftablesClient: transactions are
 * checked (objects exist, nothing still referenced is deleted, names are valid, element keys
 * fit their set) and applied all-or-nothing. `dump()` renders the state as an `nft -f` script
 * and `load()` reads one back, so tests can assert on or seed whole rulesets.
 */
export class FakeNftables implements NftablesInterface {
  private state: TableState | undefined;
  private nextHandle = 1;

  constructor(
    readonly family: NftFamily,
    readonly table: string,
  ) {}

  /** An empty transaction on this table. */
  newTransaction(): NftTransaction {
    return new NftTransaction();
  }

  async check(tx: NftTransaction): Promise<void> {
    this.simulate(tx.operations);
  }

  async run(tx: NftTransaction): Promise<void> {
    const { state, nextHandle } = this.simulate(tx.operations);
    this.state = state;
    this.nextHandle = nextHandle;
  }

  async list(): Promise<NftRuleset> {
    return this.snapshot();
  }

  /** The current state, or throws if the table does not exist. */
  snapshot(): NftRuleset {
    const state = this.state;
    if (!state) throw new ObjectReferenceError('table', this.table, 'does not exist');
    const sets = [...state.sets.values()];
    return {
      family: this.family,
      table: this.table,
      ...(state.comment !== undefined ? { comment: state.comment } : {}),
      chains: [...state.chains.values()].map((c) => c.chain),
      rules: Object.fromEntries(
        [...state.chains.values()].map((c) => [c.chain.name, c.rules.map((r) => ({ ...r }))]),
      ),
      sets: sets.filter((s): s is SetState & { def: NftSet } => s.def.kind === 'set').map((s) => s.def),
      maps: sets.filter((s): s is SetState & { def: NftMap } => s.def.kind === 'map').map((s) => s.def),
      elements: Object.fromEntries(sets.map((s) => [s.def.name, [...s.elements.values()]])),
    };
  }

  /** The state as an `nft -f` script (empty when the table does not exist). */
  dump(): string {
    if (!this.state) return '';
    const tx = new NftTransaction();
    const state = this.state;
    tx.add({ kind: 'table', ...(state.comment !== undefined ? { comment: state.comment } : {}) });
    for (const { chain } of state.chains.values()) tx.add(chain);
    for (const { def } of state.sets.values()) tx.add(def);
    for (const { rules } of state.chains.values()) {
      for (const rule of rules)
        tx.add({
          kind: 'rule',
          chain: rule.chain,
          rule: rule.rule,
          ...(rule.comment !== undefined ? { comment: rule.comment } : {}),
        });
    }
    for (const { elements } of state.sets.values()) for (const element of elements.values()) tx.add(element);
    return renderScript(this.family, this.table, tx);
  }

  /** Replace the state with what an `nft -f` script (as dump() writes) creates. */
  load(script: string): void {
    this.state = undefined;
    this.nextHandle = 1;
    const { operations } = parseScript(script, this.family, this.table);
    const { state, nextHandle } = this.simulate(operations);
    this.state = state;
    this.nextHandle = nextHandle;
  }

  private simulate(operations: readonly NftOperation[]): {
    state: TableState | undefined;
    nextHandle: number;
  } {
    let state = this.state ? cloneState(this.state) : undefined;
    let nextHandle = this.nextHandle;
    for (const [index, op] of operations.entries()) {
      const where = `operation ${index + 1} (${op.verb} ${op.object.kind})`;
      if (op.object.kind === 'table') {
        state = applyTable(state, op, where);
        continue;
      }
      if (!state) throw new ObjectReferenceError(`${where} table`, this.table, 'does not exist');
      switch (op.object.kind) {
        case 'chain':
          applyChain(state, op.verb, op.object, where);
          break;
        case 'set':
        case 'map':
          applySet(state, op.verb, op.object, where);
          break;
        case 'element':
          applyElement(state, op.verb, op.object, where);
          break;
        case 'rule':
          nextHandle = applyRule(state, op.verb, op.object, where, nextHandle);
          break;
      }
    }
    return { state, nextHandle };
  }
}

function cloneState(state: TableState): TableState {
  return {
    ...(state.comment !== undefined ? { comment: state.comment } : {}),
    chains: new Map([...state.chains].map(([name, c]) => [name, { chain: c.chain, rules: [...c.rules] }])),
    sets: new Map([...state.sets].map(([name, s]) => [name, { def: s.def, elements: new Map(s.elements) }])),
  };
}

function checkName(where: string, name: string): void {
  if (!NFT_NAME_PATTERN.test(name) || name.length >= NFT_NAME_LENGTH_MAX) {
    throw new InvalidFieldError(`${where} name`, name, 'is not a valid nftables name');
  }
}

function applyTable(state: TableState | undefined, op: NftOperation, where: string): TableState | undefined {
  const table = op.object as Extract<NftObject, { kind: 'table' }>;
  switch (op.verb) {
    case 'add':
    case 'create':
      if (state && op.verb === 'create') throw new ObjectReferenceError(where, 'table', 'already exists');
      if (state) return table.comment !== undefined ? { ...state, comment: table.comment } : state;
      return {
        ...(table.comment !== undefined ? { comment: table.comment } : {}),
        chains: new Map(),
        sets: new Map(),
      };
    case 'flush':
      if (!state) throw new ObjectReferenceError(where, 'table', 'does not exist');
      for (const chain of state.chains.values()) chain.rules = [];
      for (const set of state.sets.values()) set.elements.clear();
      return state;
    case 'delete':
    case 'destroy':
      if (!state && op.verb === 'delete') throw new ObjectReferenceError(where, 'table', 'does not exist');
      return undefined;
    default:
      throw new InvalidFieldError(where, op.verb, 'is not a table operation');
  }
}

function chainUsers(state: TableState, name: string): string | undefined {
  for (const { chain, rules } of state.chains.values()) {
    if (rules.some((r) => chainReferences(r.rule).includes(name))) return `a rule in ${chain.name}`;
  }
  for (const { def, elements } of state.sets.values()) {
    for (const element of elements.values()) {
      if (chainReferences((element.value ?? []).join(' ')).includes(name)) return `an element of ${def.name}`;
    }
  }
  return undefined;
}

function applyChain(state: TableState, verb: NftOperation['verb'], chain: NftChain, where: string): void {
  checkName(where, chain.name);
  const existing = state.chains.get(chain.name);
  switch (verb) {
    case 'add':
    case 'create':
      if (existing && verb === 'create')
        throw new ObjectReferenceError(`${where} chain`, chain.name, 'already exists');
      if (existing) {
        if (
          (existing.chain.hook ?? '') !== (chain.hook ?? '') ||
          (existing.chain.type ?? '') !== (chain.type ?? '')
        ) {
          throw new ObjectReferenceError(`${where} chain`, chain.name, 'exists with a different type/hook');
        }
        return;
      }
      state.chains.set(chain.name, { chain, rules: [] });
      return;
    case 'flush':
      if (!existing) throw new ObjectReferenceError(`${where} chain`, chain.name, 'does not exist');
      existing.rules = [];
      return;
    case 'delete':
    case 'destroy': {
      if (!existing) {
        if (verb === 'delete') throw new ObjectReferenceError(`${where} chain`, chain.name, 'does not exist');
        return;
      }
      if (existing.rules.length > 0)
        throw new ObjectReferenceError(`${where} chain`, chain.name, 'is not empty');
      const user = chainUsers(state, chain.name);
      if (user)
        throw new ObjectReferenceError(`${where} chain`, chain.name, `is still referenced by ${user}`);
      state.chains.delete(chain.name);
      return;
    }
    default:
      throw new InvalidFieldError(where, verb, 'is not a chain operation');
  }
}

function applySet(state: TableState, verb: NftOperation['verb'], set: NftSet | NftMap, where: string): void {
  checkName(where, set.name);
  const existing = state.sets.get(set.name);
  switch (verb) {
    case 'add':
    case 'create':
      if (existing && verb === 'create')
        throw new ObjectReferenceError(`${where} ${set.kind}`, set.name, 'already exists');
      if (existing) {
        if (existing.def.kind !== set.kind || existing.def.type !== set.type) {
          throw new ObjectReferenceError(`${where} ${set.kind}`, set.name, 'exists with a different type');
        }
        return;
      }
      state.sets.set(set.name, { def: set, elements: new Map() });
      return;
    case 'flush':
      if (!existing) throw new ObjectReferenceError(`${where} ${set.kind}`, set.name, 'does not exist');
      existing.elements.clear();
      return;
    case 'delete':
    case 'destroy': {
      if (!existing) {
        if (verb === 'delete')
          throw new ObjectReferenceError(`${where} ${set.kind}`, set.name, 'does not exist');
        return;
      }
      for (const { chain, rules } of state.chains.values()) {
        if (rules.some((r) => setReferences(r.rule).includes(set.name))) {
          throw new ObjectReferenceError(
            `${where} ${set.kind}`,
            set.name,
            `is still used by a rule in ${chain.name}`,
          );
        }
      }
      state.sets.delete(set.name);
      return;
    }
    default:
      throw new InvalidFieldError(where, verb, 'is not a set operation');
  }
}

function applyElement(
  state: TableState,
  verb: NftOperation['verb'],
  element: NftElement,
  where: string,
): void {
  const set = state.sets.get(element.container);
  if (!set) throw new ObjectReferenceError(`${where} container`, element.container, 'does not exist');
  const arity = set.def.type.split('.').length;
  if (element.key.length !== arity) {
    throw new InvalidFieldError(
      `${where} key`,
      element.key,
      `needs ${arity} part(s) for type ${set.def.type}`,
    );
  }
  const key = keyOf(element);
  const existing = set.elements.get(key);
  switch (verb) {
    case 'add':
    case 'create': {
      if (set.def.kind === 'map' && (!element.value || element.value.length === 0)) {
        throw new InvalidFieldError(
          `${where} value`,
          element.value ?? null,
          `map ${set.def.name} needs a value`,
        );
      }
      for (const chain of chainReferences((element.value ?? []).join(' '))) {
        if (!state.chains.has(chain))
          throw new ObjectReferenceError(`${where} value`, chain, 'is not a chain');
      }
      if (existing) {
        if (verb === 'create') throw new ObjectReferenceError(`${where} key`, key, 'already exists');
        if ((existing.value ?? []).join(' . ') !== (element.value ?? []).join(' . ')) {
          throw new ObjectReferenceError(`${where} key`, key, 'exists with a different value');
        }
        return;
      }
      set.elements.set(key, element);
      return;
    }
    case 'delete':
    case 'destroy':
      if (!existing && verb === 'delete')
        throw new ObjectReferenceError(`${where} key`, key, 'does not exist');
      set.elements.delete(key);
      return;
    default:
      throw new InvalidFieldError(where, verb, 'is not an element operation');
  }
}

function applyRule(
  state: TableState,
  verb: NftOperation['verb'],
  rule: NftRule,
  where: string,
  nextHandle: number,
): number {
  const chain = state.chains.get(rule.chain);
  if (!chain) throw new ObjectReferenceError(`${where} chain`, rule.chain, 'does not exist');
  if (verb !== 'delete') {
    for (const target of chainReferences(rule.rule)) {
      if (!state.chains.has(target))
        throw new ObjectReferenceError(`${where} rule`, target, 'is not a chain');
    }
    for (const set of setReferences(rule.rule)) {
      if (!state.sets.has(set)) throw new ObjectReferenceError(`${where} rule`, set, 'is not a set or map');
    }
  }
  const indexOfHandle = (handle: number | undefined) => {
    const index = chain.rules.findIndex((r) => r.handle === handle);
    if (index < 0)
      throw new ObjectReferenceError(`${where} handle`, String(handle), `is not a rule in ${rule.chain}`);
    return index;
  };
  const stored: NftRule = { ...rule, handle: nextHandle };
  delete stored.position;
  switch (verb) {
    case 'add':
      if (rule.position !== undefined) chain.rules.splice(indexOfHandle(rule.position) + 1, 0, stored);
      else chain.rules.push(stored);
      return nextHandle + 1;
    case 'insert':
      if (rule.position !== undefined) chain.rules.splice(indexOfHandle(rule.position), 0, stored);
      else chain.rules.unshift(stored);
      return nextHandle + 1;
    case 'replace':
      chain.rules[indexOfHandle(rule.handle)] = { ...stored, handle: rule.handle! };
      return nextHandle;
    case 'delete':
      chain.rules.splice(indexOfHandle(rule.handle), 1);
      return nextHandle;
    default:
      throw new InvalidFieldError(where, verb, 'is not a rule operation');
  }
}
