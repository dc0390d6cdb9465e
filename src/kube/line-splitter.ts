// Whole lines out of a byte stream (log streams, watch streams). Pure.

/** One line, or one piece of a line longer than the splitter's limit. */
export interface Line {
  /** The text, without the "\n" (and without a "\r" before it). */
  text: string;
  /** True when more of the same line follows (the line was longer than the limit). */
  continued?: true;
}

/**
 * Splits chunks of a UTF-8 byte stream into lines. Linear: each byte is scanned once, and the
 * text after the last "\n" is kept as the chunks it came in until the line ends (or until it
 * reaches `maxLineBytes`: then a piece of at most that many bytes, cut between characters, is
 * passed on marked `continued`). Memory is bounded by `maxLineBytes` plus one chunk.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  private inLine = false;

  /** @param maxLineBytes the longest piece passed on, in bytes (default: no limit). */
  constructor(private readonly maxLineBytes = Infinity) {}

  /** Lines (and pieces of long lines) completed by `chunk`. */
  push(chunk: Buffer | string): Line[] {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    const out: Line[] = [];
    let start = 0;
    for (let nl = buf.indexOf(10); nl >= 0; nl = buf.indexOf(10, start)) {
      this.add(buf.subarray(start, nl), out);
      out.push({ text: this.take(this.size, true) });
      this.inLine = false;
      start = nl + 1;
    }
    this.add(buf.subarray(start), out);
    return out;
  }

  /**
   * The unterminated last line, if any (an empty string when a long line's pieces were passed on
   * and nothing is left: its end); the splitter is empty afterwards.
   */
  end(): string | undefined {
    if (this.size === 0 && !this.inLine) return undefined;
    this.inLine = false;
    return this.take(this.size, false);
  }

  private add(bytes: Buffer, out: Line[]): void {
    if (bytes.length > 0) {
      this.parts.push(bytes);
      this.size += bytes.length;
    }
    while (this.size > this.maxLineBytes) {
      const all = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.size);
      this.parts = [all];
      let cut = this.maxLineBytes;
      // Not inside a UTF-8 character (continuation bytes are 10xxxxxx). Pending bytes never hold
      // a "\n", so a "\r" before the cut is not part of a line end.
      while (cut > 1 && (all[cut]! & 0xc0) === 0x80) cut--;
      out.push({ text: this.take(cut, false), continued: true });
      this.inLine = true;
    }
  }

  /** The first `n` pending bytes as text; the rest stays pending. */
  private take(n: number, lineEnd: boolean): string {
    const all = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.size);
    let end = n;
    if (lineEnd && end > 0 && all[end - 1] === 13) end--;
    const text = all.toString('utf8', 0, end);
    const rest = all.subarray(n);
    this.parts = rest.length > 0 ? [rest] : [];
    this.size = rest.length;
    return text;
  }
}
