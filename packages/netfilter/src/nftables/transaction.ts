import type { NftChain, NftElement, NftMap, NftObject, NftRule, NftSet, NftTable } from './model';

/** Verbs of an nftables transaction (knftables' set; `destroy` = delete if it exists). */
export type NftVerb = 'add' | 'create' | 'insert' | 'replace' | 'flush' | 'delete' | 'destroy';

/** One operation of a transaction: a verb on an object. */
export interface NftOperation {
  verb: NftVerb;
  object: NftObject;
}

/**
 * An ordered list of operations on one table, applied by a client as a single `nft -f -` run,
 * which the kernel commits atomically: all or nothing.
 */
export class NftTransaction {
  readonly operations: NftOperation[] = [];

  /** Add the object; for tables, chains, sets and maps it is fine if it already exists. */
  add(object: NftObject): this {
    this.operations.push({ verb: 'add', object });
    return this;
  }

  /** Add the object; fail the transaction if it already exists. */
  create(object: NftTable | NftChain | NftSet | NftMap | NftElement): this {
    this.operations.push({ verb: 'create', object });
    return this;
  }

  /** Put a rule at the start of its chain (or before the rule at `position`). */
  insert(rule: NftRule): this {
    this.operations.push({ verb: 'insert', object: rule });
    return this;
  }

  /** Replace the rule with `handle`. */
  replace(rule: NftRule): this {
    this.operations.push({ verb: 'replace', object: rule });
    return this;
  }

  /** Remove every rule of a chain, every element of a set/map, or everything in the table. */
  flush(object: NftTable | NftChain | NftSet | NftMap): this {
    this.operations.push({ verb: 'flush', object });
    return this;
  }

  /** Delete the object; fail the transaction if it does not exist. Rules need a handle. */
  delete(object: NftObject): this {
    this.operations.push({ verb: 'delete', object });
    return this;
  }

  /** Delete the object if it exists. */
  destroy(object: NftTable | NftChain | NftSet | NftMap | NftElement): this {
    this.operations.push({ verb: 'destroy', object });
    return this;
  }

  get size(): number {
    return this.operations.length;
  }
}
