const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** The text before a top-level array that makes it the list's items (`"items":`, any spacing). */
const ITEMS_KEY = /"items"\s*:\s*$/;

/**
 * Splits a LIST response body (`{"kind":…,"metadata":{…},"items":[{…},{…}]}`) into its items
 * as its chunks arrive: each element of the top-level `items` array is handed over as its own
 * text, to be decoded alone, and the rest of the body is kept with an empty `items` array. A
 * list of 1M endpoints is a 250 MB body: read whole it was held as its chunks, their join and
 * every decoded object at once; read this way one item's text exists at a time. Only the
 * chunk is scanned; an item split over chunks is kept as its pieces and joined once.
 */
export class ListItemsReader {
  /** Nesting depth of objects and arrays at the scan position. */
  private depth = 0;
  private inString = false;
  /** Inside the top-level `items` array (depth 2 there). */
  private inItems = false;
  /** Pieces of the body outside the items (small: kind, apiVersion, metadata). */
  private readonly outer: string[] = [];
  /** Pieces of the item being read; empty between items. */
  private item: string[] = [];
  /** Where in the current chunk the item being read started (0: it began in an earlier chunk). */
  private itemStart = -1;
  /** The previous chunk ended inside a string on an escaping backslash: this one's first character is escaped. */
  private pendingEscape = false;

  /** Scans `chunk`, handing each item it completes to `onItem` as text. */
  push(chunk: string, onItem: (text: string) => void): void {
    if (chunk.length === 0) return;
    let outerStart = this.inItems ? -1 : 0;
    let i = 0;
    if (this.pendingEscape) {
      this.pendingEscape = false;
      i = 1;
    }
    while (i < chunk.length) {
      if (this.inString) {
        const end = stringEnd(chunk, i);
        if (end < 0) {
          // The string goes on into the next chunk; a trailing backslash escapes its first character.
          this.pendingEscape = endsWithOddBackslashes(chunk);
          i = chunk.length;
          break;
        }
        this.inString = false;
        i = end + 1;
        continue;
      }
      const c = chunk.charCodeAt(i);
      if (c === QUOTE) this.inString = true;
      else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        if (this.inItems && this.depth === 2) this.itemStart = i;
        this.depth++;
        if (
          c === OPEN_BRACKET &&
          this.depth === 2 &&
          !this.inItems &&
          this.isItemsKey(chunk, outerStart, i)
        ) {
          this.outer.push(chunk.slice(outerStart, i + 1));
          this.inItems = true;
          outerStart = -1;
        }
      } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        this.depth--;
        if (this.inItems && this.depth === 2) this.endItem(chunk, i, onItem);
        else if (this.inItems && this.depth === 1) {
          this.inItems = false;
          outerStart = i;
        }
      }
      i++;
    }
    if (this.inItems && this.itemStart >= 0) this.item.push(chunk.slice(this.itemStart));
    this.itemStart = this.inItems && this.itemStart >= 0 ? 0 : -1;
    if (outerStart >= 0) this.outer.push(chunk.slice(outerStart));
  }

  /** The body outside the items, with `items` empty; throws when the body ended mid-way. */
  end(): string {
    if (this.depth !== 0 || this.inString) throw new SyntaxError('the list ended before its closing brace');
    return this.outer.join('');
  }

  /** Whether the `[` at `at` opens the value of the top-level `items` key. */
  private isItemsKey(chunk: string, outerStart: number, at: number): boolean {
    // The key is outer text: the pieces so far and this chunk's part before the bracket.
    const before = `${this.outer.join('')}${chunk.slice(Math.max(outerStart, 0), at)}`.slice(-64);
    return ITEMS_KEY.test(before);
  }

  private endItem(chunk: string, at: number, onItem: (text: string) => void): void {
    let text = chunk.slice(Math.max(this.itemStart, 0), at + 1);
    if (this.item.length > 0) {
      this.item.push(text);
      text = this.item.join('');
      this.item = [];
    }
    this.itemStart = -1;
    onItem(text);
  }
}

/** Where the string that `from` is inside ends (its closing quote), or -1 past the chunk. */
function stringEnd(chunk: string, from: number): number {
  let at = chunk.indexOf('"', from);
  while (at >= 0) {
    let backslashes = 0;
    for (let j = at - 1; j >= from && chunk.charCodeAt(j) === BACKSLASH; j--) backslashes++;
    if (backslashes % 2 === 0) return at;
    at = chunk.indexOf('"', at + 1);
  }
  return -1;
}

function endsWithOddBackslashes(chunk: string): boolean {
  let n = 0;
  for (let j = chunk.length - 1; j >= 0 && chunk.charCodeAt(j) === BACKSLASH; j--) n++;
  return n % 2 === 1;
}
