// Elements built straight into IncrementalNftTable's packed form (packed-parts.ts): each one's
// id (container code, \0, packed key) and rest (packed value; with a comment or timeout:
// PACKED_END, comment, \0, timeout), with no element object, key and value arrays, or part
// texts made for them (issue #54: 510k elements at 5,000 Services × 50 endpoints, whose part
// texts — addresses unpacked from bits, ports and slots as decimals — were parsed straight back).

import { CONTAINER_CODES, FIRST_CONTAINER_CODE, NO_COMMENT } from './packed-element-form';
import { CharCodes, PACKED_END, type PackedMark } from './packed-parts';

/** The longest scratch list a packer keeps from one take() to the next. */
const SCRATCH_KEPT = 16_384;

/** Starts the code of a container beyond CONTAINER_CODES: its name follows. */
const LITERAL_NAME = '\u0001';

/**
 * Container names and their codes, for one table: one character (\u0080 + the container's
 * index) instead of a name like `service-cluster-endpoints`, or \u0001 + the name beyond 128.
 */
export class ContainerCodes {
  private readonly codes = new Map<string, string>();
  private readonly names: string[] = [];

  code(name: string): string {
    let code = this.codes.get(name);
    if (code === undefined) {
      if (this.names.length < CONTAINER_CODES) {
        code = String.fromCharCode(FIRST_CONTAINER_CODE + this.names.length);
        this.names.push(name);
      } else code = LITERAL_NAME + name;
      this.codes.set(name, code);
    }
    return code;
  }

  name(code: string): string {
    return code.startsWith(LITERAL_NAME)
      ? code.slice(1)
      : this.names[code.charCodeAt(0) - FIRST_CONTAINER_CODE]!;
  }

  /** The code of a container that has one already (no code is handed out). */
  known(name: string): string | undefined {
    return this.codes.get(name);
  }
}

/** Elements in one table's packed form, in order: a contribution's `packedElements`. */
export interface NftPackedElements {
  /** The packer that made them: the table takes only its own's. */
  readonly packer: NftElementPacker;
  /** Each element's id. The table keeps the array: do not change it after handing it in. */
  readonly ids: string[];
  /** Each element's rest, at its id's index. */
  readonly rests: string[];
}

/**
 * Packs elements for one IncrementalNftTable (its `packer`), one after another until `take()`.
 * An element is either given whole (`element`, its texts as NftElement holds them) or part by
 * part: `key(container)`, its key's parts (`part`, `number`, `ipv4`), for a map `value()` and
 * the value's parts, then `end()`. A part given as a number or address bits packs as its
 * canonical text would, so both ways give the same id and rest for the same element.
 */
export class NftElementPacker {
  /**
   * Scratch lists, reused from take() to take(): their first idCount / restCount are the
   * elements packed since. Pushed into new arrays, each owner's lists grew by copying (at 5,000
   * Services × 102 elements ~25 MB of garbage in a full sync, a young-generation collection or
   * two); take() copies them out once, at their final size.
   */
  private ids: string[] = [];
  private rests: string[] = [];
  private idCount = 0;
  private restCount = 0;
  private readonly codes = new CharCodes();
  /** Whether the parts going in are the key's (value() not called yet). */
  private inKey = false;

  constructor(private readonly containers: ContainerCodes) {}

  /** Starts an element of `container`: its key's parts follow (not a single '': see CharCodes.startParts). */
  key(container: string): this {
    this.codes.reset().text(this.containers.code(container)).char(0).startParts();
    this.inKey = true;
    return this;
  }

  /**
   * The start of keys of `container` whose first parts are `texts`, packed once for keyFrom:
   * a Service port's endpoint-map keys all start with its address, protocol and port.
   */
  keyPrefix(container: string, texts: readonly string[]): PackedMark {
    return this.key(container).parts(texts).codes.mark();
  }

  /** Starts an element with the key `prefix` (made by this packer's keyPrefix): more parts follow. */
  keyFrom(prefix: PackedMark): this {
    this.codes.resume(prefix);
    this.inKey = true;
    return this;
  }

  /** A part given as text. */
  part(text: string): this {
    this.codes.packPart(text);
    return this;
  }

  /** Parts given as texts. */
  parts(texts: readonly string[]): this {
    for (const text of texts) this.codes.packPart(text);
    return this;
  }

  /** A part whose text is the decimal `n`, a non-negative integer. */
  number(n: number): this {
    this.codes.packNumber(n);
    return this;
  }

  /** A part whose text is the dotted quad of `bits` (32 bits, the first octet highest). */
  ipv4(bits: number): this {
    this.codes.packIPv4Bits(bits);
    return this;
  }

  /** Ends the key: the map value's parts follow. */
  value(): this {
    this.ids[this.idCount++] = this.codes.toString();
    this.codes.reset().startParts();
    this.inKey = false;
    return this;
  }

  /** Ends the element, with its comment and timeout if it has them. */
  end(comment?: string, timeout?: string): this {
    if (this.inKey) this.value();
    if (comment !== undefined || timeout !== undefined)
      this.codes
        .char(PACKED_END)
        .text(comment ?? NO_COMMENT)
        .char(0)
        .text(timeout ?? '');
    this.rests[this.restCount++] = this.codes.toString();
    return this;
  }

  /** One element from its texts, parts as NftElement holds them (each may hold ` . `). */
  element(
    container: string,
    key: readonly string[],
    value?: readonly string[],
    comment?: string,
    timeout?: string,
  ): this {
    this.ids[this.idCount++] = this.codes
      .reset()
      .text(this.containers.code(container))
      .char(0)
      .packParts(key)
      .toString();
    this.codes.reset();
    if (value) this.codes.packParts(value);
    this.inKey = false;
    return this.end(comment, timeout);
  }

  /** Drops what was packed since the last take(): what a builder that failed midway left. */
  clear(): void {
    this.idCount = 0;
    this.restCount = 0;
  }

  /**
   * The elements packed since the last take(), in order, in new arrays of exactly their length;
   * the packer starts afresh.
   */
  take(): NftPackedElements {
    const packed = {
      packer: this,
      ids: this.ids.slice(0, this.idCount),
      rests: this.rests.slice(0, this.restCount),
    };
    this.clear();
    // A huge owner's scratch is not kept (its strings and its room would stay alive with it).
    if (this.ids.length > SCRATCH_KEPT) this.ids = [];
    if (this.rests.length > SCRATCH_KEPT) this.rests = [];
    return packed;
  }
}
