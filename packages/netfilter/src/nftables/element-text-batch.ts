import type { NftElementTextVisitor } from './element-text';
import { FIRST_CONTAINER_CODE, type PackedTail, readPackedTail, ID_SEP as SEP } from './packed-element-form';
import type { Unpacker } from './packed-parts';

/** Elements unpacked per batch: one string made for ~100 KB of texts (see Unpacker). */
const BATCH = 4096;

/**
 * Visits one container's elements given as ids and rest texts (IncrementalNftTable's packed
 * form), a batch at a time: the batch's key and value texts are unpacked into one string and
 * each handed to `visit` as a slice of it. Comment and timeout are slices of the rest text.
 */
export class ElementTextBatch {
  private container = '';
  private readonly ids: string[] = [];
  private readonly rests: string[] = [];
  /** Per element: where its key text and its value text end in the batch's string, and where its packed value ends in its rest. */
  private readonly ends = new Int32Array(3 * BATCH);
  /** Texts with a character over 255, made one by one: by 2i (key) and 2i + 1 (value). */
  private readonly wide = new Map<number, string>();
  /** The visited element's comment and timeout (one reused object). */
  private readonly tail: PackedTail = { comment: undefined, timeout: undefined };

  constructor(
    private readonly unpacker: Unpacker,
    private readonly visit: NftElementTextVisitor,
  ) {}

  /** Elements added from here on are `container`'s (flush the previous container's first). */
  of(container: string): this {
    this.container = container;
    return this;
  }

  /** Adds the element `id` (its key packed after the first \0) with `rest`, visiting a full batch. */
  add(id: string, rest: string): void {
    this.ids.push(id);
    this.rests.push(rest);
    if (this.ids.length === BATCH) this.flush();
  }

  /** Visits the elements added so far. */
  flush(): void {
    const { ids, rests, ends, wide, unpacker } = this;
    if (ids.length === 0) return;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      // A one-character container code (\u0080 on) is followed by the \0, else search for it.
      const keyAt = id.charCodeAt(0) >= FIRST_CONTAINER_CODE ? 2 : id.indexOf(SEP) + 1;
      if (!unpacker.append(id, keyAt)) wide.set(2 * i, unpacker.wideText(id, keyAt));
      ends[3 * i] = unpacker.length;
      const rest = rests[i]!;
      unpacker.end = 0;
      if (rest !== '' && !unpacker.append(rest, 0)) wide.set(2 * i + 1, unpacker.wideText(rest, 0));
      ends[3 * i + 1] = unpacker.length;
      ends[3 * i + 2] = unpacker.end;
    }
    const text = unpacker.take();
    let from = 0;
    for (let i = 0; i < ids.length; i++) {
      const keyEnd = ends[3 * i]!;
      const valueEnd = ends[3 * i + 1]!;
      let key = text.slice(from, keyEnd);
      let value = valueEnd > keyEnd ? text.slice(keyEnd, valueEnd) : '';
      if (wide.size > 0) {
        key = wide.get(2 * i) ?? key;
        value = wide.get(2 * i + 1) ?? value;
      }
      from = valueEnd;
      this.visitRest(key, value, rests[i]!, ends[3 * i + 2]!);
    }
    ids.length = 0;
    rests.length = 0;
    if (wide.size > 0) wide.clear();
  }

  /** Visits an element with texts `key` and `value`, and the comment and timeout after `end` in `rest`. */
  private visitRest(key: string, value: string, rest: string, end: number): void {
    const { comment, timeout } = readPackedTail(rest, end, this.tail);
    this.visit(this.container, key, value, comment, timeout);
  }
}
