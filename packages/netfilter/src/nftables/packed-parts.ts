// Element keys and values as IncrementalNftTable keeps them (issue #54): packed instead of as
// their ` . `-joined text. At 250k endpoints the table held ~500k element texts like
// `10.96.0.18 . tcp . 80 . 7` and `10.128.4.194 . 8080`, 40-50 bytes each on V8's heap; packed
// they take 24-32 (REPEAT: kube-proxy's hairpin set keys are `ip . ip`). Each part is one item, a tag character then its contents:
//   IPV4  + 4 characters, the address's bytes     (a canonical dotted quad: `10.0.0.1`)
//   BYTE  + 1 character, the number               (a canonical decimal 0-255: `80`, `7`)
//   SHORT + 2 characters, high and low byte       (a canonical decimal 256-65535: `8080`)
//   LITERAL + the text, up to the next tag        (anything else: `tcp`, `goto x`, `080`, IPv6)
//   REPEAT                                         (the same text as the part before it)
// Every character stays below 256 for such parts, so V8 keeps the strings one byte per
// character. A literal's characters below TAGS are escaped (ESCAPE, then the code + 0x40), so a
// literal never contains a tag. The packing is a function of the joined text: a part holding
// ` . ` packs as the parts it would split into, and the empty text (no parts, or one empty part)
// packs as ''. So two elements have the same packed key exactly when their key texts are equal,
// as when the table kept the texts themselves.

/** Tag of a literal part: its text follows, up to the next tag. */
export const LITERAL = 0;
/** Tag of a canonical dotted quad: its 4 bytes follow. */
export const IPV4 = 1;
/** Tag of a canonical decimal 0-255: one character, the number, follows. */
export const BYTE = 2;
/** Tag of a canonical decimal 256-65535: two characters, high and low byte, follow. */
export const SHORT = 3;
/** Ends a packed value that has a comment or timeout after it (the table's rest text). */
export const PACKED_END = 4;
/** In a literal: the next character is a code below TAGS, plus 0x40. */
export const ESCAPE = 5;
/** Tag of a part with the same text as the part before it. */
export const REPEAT = 6;
/** Character codes below this are tags (or ESCAPE) in a packed text. */
export const TAGS = 7;

const CHUNK = 8192;
const DOT = 46;
const ZERO = 48;
const SPACE = 32;

/** Parts packed so far (CharCodes.mark), to pack more after again and again. */
export interface PackedMark {
  readonly text: string;
  readonly previous: string | number | undefined;
}

/**
 * Character codes of a packed or decoded text being built: one reused array (no allocation per
 * element), turned into a flat string by fromCharCode (a concatenation would leave V8 cons strings
 * holding every piece).
 */
export class CharCodes {
  private readonly codes: number[] = [];
  /** How many of codes are the text's. */
  private n = 0;
  /**
   * The part packed last (REPEAT when the next is the same): a literal's text, a number's value,
   * a dotted quad's bits as -1 - bits. Parts given as numbers or address bits compare with
   * parts given as text, whose canonical forms they are.
   */
  private previous: string | number | undefined;

  reset(): this {
    this.n = 0;
    return this;
  }

  /** Appends the characters of `text`. */
  text(text: string): this {
    for (let i = 0; i < text.length; i++) this.codes[this.n++] = text.charCodeAt(i);
    return this;
  }

  /** Appends one character code. */
  char(code: number): this {
    this.codes[this.n++] = code;
    return this;
  }

  toString(): string {
    return fromCodes(this.codes, this.n);
  }

  /** Appends `parts` (a key or value) packed. */
  packParts(parts: readonly string[]): this {
    if (parts.length === 0 || (parts.length === 1 && parts[0] === '')) return this;
    this.startParts();
    for (const part of parts) this.packPart(part);
    return this;
  }

  /** Where packing stands, to resume() from again: the codes so far and the part a REPEAT would repeat. */
  mark(): PackedMark {
    return { text: this.toString(), previous: this.previous };
  }

  /** Starts again from `mark`: as if its parts had just been packed. */
  resume(mark: PackedMark): this {
    this.reset().text(mark.text);
    this.previous = mark.previous;
    return this;
  }

  /**
   * Starts a key or value packed part by part (packPart, packNumber, packIPv4Bits): what
   * packParts does with them, but for its empty cases (a single '' part packs as a LITERAL).
   */
  startParts(): this {
    this.previous = undefined;
    return this;
  }

  /** Appends one part as an item, or as the items of the parts it holds joined by ` . `. */
  packPart(part: string): this {
    if (part === this.previous) return this.char(REPEAT);
    const n = canonicalNumber(part, 0, part.length);
    if (n >= 0) return this.packNumber(n);
    if (this.packIPv4(part)) return this;
    if (part.includes(' . ')) {
      for (const p of part.split(' . ')) this.packPart(p);
      return this;
    }
    this.char(LITERAL);
    for (let i = 0; i < part.length; i++) {
      const c = part.charCodeAt(i);
      if (c < TAGS) this.char(ESCAPE).char(c + 0x40);
      else this.char(c);
    }
    this.previous = part;
    return this;
  }

  /** Appends the part whose text is the decimal `n` (a non-negative integer), as packPart would. */
  packNumber(n: number): this {
    // Beyond 65535 (an endpoint slot of a Service with more endpoints) the text is a literal.
    if (n > 65535) return this.packPart(String(n));
    if (n === this.previous) return this.char(REPEAT);
    this.previous = n;
    if (n < 256) return this.char(BYTE).char(n);
    return this.char(SHORT)
      .char(n >> 8)
      .char(n & 255);
  }

  /** Appends the part whose text is the dotted quad of `bits` (32 bits, first octet highest), as packPart would. */
  packIPv4Bits(bits: number): this {
    if (-1 - bits === this.previous) return this.char(REPEAT);
    this.previous = -1 - bits;
    return this.char(IPV4)
      .char((bits >>> 24) & 255)
      .char((bits >>> 16) & 255)
      .char((bits >>> 8) & 255)
      .char(bits & 255);
  }

  /** Appends `part` as an IPV4 item when it is a canonical dotted quad (one pass, no search). */
  private packIPv4(part: string): boolean {
    const len = part.length;
    if (len < 7 || len > 15) return false;
    const start = this.n;
    this.char(IPV4);
    let octets = 0;
    let value = 0;
    let digits = 0;
    let bits = 0;
    for (let i = 0; i <= len; i++) {
      const c = i < len ? part.charCodeAt(i) : DOT;
      if (c === DOT) {
        if (digits === 0 || value > 255 || octets === 4) return this.undo(start);
        this.char(value);
        bits = bits * 256 + value;
        octets++;
        value = 0;
        digits = 0;
        continue;
      }
      const d = c - ZERO;
      // Not a digit, a digit after a leading zero, or a fourth digit: not canonical.
      if (d < 0 || d > 9 || (digits > 0 && value === 0) || digits === 3) return this.undo(start);
      value = value * 10 + d;
      digits++;
    }
    if (octets !== 4) return this.undo(start);
    if (-1 - bits === this.previous) {
      this.n = start;
      this.char(REPEAT);
    }
    this.previous = -1 - bits;
    return true;
  }

  /** Drops what was appended after `start`; false (what packIPv4 returns then). */
  private undo(start: number): false {
    this.n = start;
    return false;
  }

  /**
   * Appends the text of the packed items of `s` from `at`, parts joined by ` . `, up to the end
   * of `s` or a PACKED_END; returns where it stopped.
   */
  unpack(s: string, at: number): number {
    let first = true;
    let from = this.n;
    let to = this.n;
    while (at < s.length) {
      const tag = s.charCodeAt(at);
      if (tag === PACKED_END) break;
      if (!first) this.char(SPACE).char(DOT).char(SPACE);
      first = false;
      if (tag === REPEAT) {
        for (let i = from; i < to; i++) this.char(this.codes[i]!);
        at++;
        continue;
      }
      from = this.n;
      if (tag === IPV4) {
        for (let i = 1; i <= 4; i++) {
          if (i > 1) this.char(DOT);
          this.decimal(s.charCodeAt(at + i));
        }
        at += 5;
      } else if (tag === BYTE) {
        this.decimal(s.charCodeAt(at + 1));
        at += 2;
      } else if (tag === SHORT) {
        this.decimal((s.charCodeAt(at + 1) << 8) | s.charCodeAt(at + 2));
        at += 3;
      } else at = this.unpackLiteral(s, at + 1);
      to = this.n;
    }
    return at;
  }

  private unpackLiteral(s: string, at: number): number {
    for (; at < s.length; at++) {
      const c = s.charCodeAt(at);
      if (c === ESCAPE) this.char(s.charCodeAt(++at) - 0x40);
      else if (c < TAGS) break;
      else this.char(c);
    }
    return at;
  }

  private decimal(n: number): void {
    if (n >= 10000) this.char(ZERO + Math.floor(n / 10000));
    if (n >= 1000) this.char(ZERO + (Math.floor(n / 1000) % 10));
    if (n >= 100) this.char(ZERO + (Math.floor(n / 100) % 10));
    if (n >= 10) this.char(ZERO + (Math.floor(n / 10) % 10));
    this.char(ZERO + (n % 10));
  }
}

/** Per number 0-255 at 3n: its digit count, its first digit, its second (the third is n % 10). */
const DIGITS = new Uint8Array(3 * 256);
for (let v = 0; v < 256; v++) {
  const text = String(v);
  DIGITS[3 * v] = text.length;
  DIGITS[3 * v + 1] = text.charCodeAt(0);
  DIGITS[3 * v + 2] = text.length > 1 ? text.charCodeAt(1) : 0;
}

/** Writes `v` (0-255) in decimal into `buf` at `n`, its digits from DIGITS; returns the end. */
function octet(buf: Uint8Array, n: number, v: number): number {
  const at = 3 * v;
  const len = DIGITS[at]!;
  buf[n++] = DIGITS[at + 1]!;
  if (len > 1) buf[n++] = DIGITS[at + 2]!;
  if (len > 2) buf[n++] = (v % 10) + ZERO;
  return n;
}

/**
 * The string of the first `n` of `c`. Ids and rests are 1-24 characters: fromCharCode with its
 * arguments written out is a builtin call the JIT inlines, 2-3x faster than apply (which spreads
 * an array) or Buffer's latin1Slice (a call into C++) per string; longer texts go through apply.
 */
function fromCodes(c: readonly number[], n: number): string {
  const f = String.fromCharCode;
  // biome-ignore format: one case per length
  switch (n) {
    case 0: return '';
    case 1: return f(c[0]!);
    case 2: return f(c[0]!, c[1]!);
    case 3: return f(c[0]!, c[1]!, c[2]!);
    case 4: return f(c[0]!, c[1]!, c[2]!, c[3]!);
    case 5: return f(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!);
    case 6: return f(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!);
    case 7: return f(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!);
    case 8: return f(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!);
    case 9: return f(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, c[8]!);
    case 10: return f(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, c[8]!, c[9]!);
    case 11: return f(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, c[8]!, c[9]!, c[10]!);
    case 12: return f(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, c[8]!, c[9]!, c[10]!, c[11]!);
    case 13: return f(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, c[8]!, c[9]!, c[10]!, c[11]!, c[12]!);
    case 14: return f(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, c[8]!, c[9]!, c[10]!, c[11]!, c[12]!, c[13]!);
    case 15: return f(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, c[8]!, c[9]!, c[10]!, c[11]!, c[12]!, c[13]!, c[14]!);
    case 16: return f(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, c[8]!, c[9]!, c[10]!, c[11]!, c[12]!, c[13]!, c[14]!, c[15]!);
  }
  // apply passes every code as an argument: a long text goes in pieces within the stack's limit.
  const pieces: string[] = [];
  for (let i = 0; i < n; i += CHUNK)
    pieces.push(String.fromCharCode.apply(null, c.slice(i, Math.min(n, i + CHUNK))));
  return pieces.join('');
}

/** The number `s` holds from `from` to `to` in canonical decimal (no sign, no leading zero) up to 65535, else -1. */
function canonicalNumber(s: string, from: number, to: number): number {
  const len = to - from;
  if (len < 1 || len > 5 || (len > 1 && s.charCodeAt(from) === ZERO)) return -1;
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = s.charCodeAt(i) - ZERO;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n < 65536 ? n : -1;
}

/**
 * Texts unpacked into a byte buffer and read out as one-byte strings. A full sync unpacks every
 * element's key and value (3M at 1M endpoints): appended one after another and read out as one
 * string per batch (take), sliced per text, they cost a fraction of a string made per text
 * through Buffer (a call into C++ each). A literal with a character over 255 does not fit: append
 * refuses it, and text() builds that one through CharCodes.
 */
export class Unpacker {
  private buf = Buffer.allocUnsafe(4096);
  private readonly wide = new CharCodes();
  /** Bytes appended since the last take(). */
  length = 0;
  /** Where the last append() or text() stopped in its input: its end or a PACKED_END. */
  end = 0;

  /** The text of the packed items of `s` from `at`, parts joined by ` . `, up to its end or a PACKED_END. */
  text(s: string, at: number): string {
    this.length = 0;
    return this.append(s, at) ? this.take() : this.wideText(s, at);
  }

  /** text() for a literal with a character over 255, leaving the appended bytes alone. */
  wideText(s: string, at: number): string {
    this.end = this.wide.reset().unpack(s, at);
    return this.wide.toString();
  }

  /** The bytes appended since the last take() as one string; the buffer is empty again. */
  take(): string {
    const text = this.buf.toString('latin1', 0, this.length);
    this.length = 0;
    return text;
  }

  /**
   * Appends the text of the packed items of `s` from `at` (as text()); false, with nothing
   * appended, when it has a character over 255.
   */
  append(s: string, at: number): boolean {
    // At most 4 bytes out per character in (`1.2.3.4 . ` from 5) but for REPEAT: room for all of
    // it up front, and more before each REPEAT.
    let buf = this.room(this.length, s.length - at);
    const start = at;
    let n = this.length;
    // The previous part's text, for REPEAT.
    let from = n;
    let to = n;
    while (at < s.length) {
      const tag = s.charCodeAt(at);
      if (tag === PACKED_END) break;
      if (at > start) {
        buf[n++] = SPACE;
        buf[n++] = DOT;
        buf[n++] = SPACE;
      }
      if (tag === REPEAT) {
        if (n + (to - from) + 4 * (s.length - at) + 8 > buf.length)
          buf = this.room(n, to - from + s.length - at);
        for (let i = from; i < to; i++) buf[n++] = buf[i]!;
        at++;
        continue;
      }
      from = n;
      if (tag === IPV4) {
        n = octet(buf, n, s.charCodeAt(at + 1));
        buf[n++] = DOT;
        n = octet(buf, n, s.charCodeAt(at + 2));
        buf[n++] = DOT;
        n = octet(buf, n, s.charCodeAt(at + 3));
        buf[n++] = DOT;
        n = octet(buf, n, s.charCodeAt(at + 4));
        at += 5;
      } else if (tag === BYTE) {
        n = octet(buf, n, s.charCodeAt(at + 1));
        at += 2;
      } else if (tag === SHORT) {
        n = this.decimal((s.charCodeAt(at + 1) << 8) | s.charCodeAt(at + 2), n);
        at += 3;
      } else {
        for (at++; at < s.length; at++) {
          let c = s.charCodeAt(at);
          if (c === ESCAPE) c = s.charCodeAt(++at) - 0x40;
          else if (c < TAGS) break;
          if (c > 255) return false;
          buf[n++] = c;
        }
      }
      to = n;
    }
    this.end = at;
    this.length = n;
    return true;
  }

  /** The buffer, grown if it lacks room for `chars` more characters' text after its first `used` bytes. */
  private room(used: number, chars: number): Buffer {
    const needed = used + 4 * chars + 8;
    if (this.buf.length < needed) {
      const grown = Buffer.allocUnsafe(2 * needed);
      this.buf.copy(grown, 0, 0, used);
      this.buf = grown;
    }
    return this.buf;
  }

  private decimal(v: number, n: number): number {
    const buf = this.buf;
    if (v >= 10000) buf[n++] = ZERO + Math.floor(v / 10000);
    if (v >= 1000) buf[n++] = ZERO + (Math.floor(v / 1000) % 10);
    if (v >= 100) buf[n++] = ZERO + (Math.floor(v / 100) % 10);
    if (v >= 10) buf[n++] = ZERO + (Math.floor(v / 10) % 10);
    buf[n++] = ZERO + (v % 10);
    return n;
  }
}
