// Whole lines out of a byte stream (log streams, watch streams). Pure.
import { StringDecoder } from 'node:string_decoder';

/**
 * Splits chunks of a UTF-8 byte stream into whole lines (without the "\n"; a "\r" before it is
 * dropped too). A multi-byte character split across chunks is kept whole. The text after the
 * last "\n" is held back until {@link LineSplitter.end}.
 */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';

  /** Lines completed by `chunk`. */
  push(chunk: Buffer | string): string[] {
    const text = this.pending + (typeof chunk === 'string' ? chunk : this.decoder.write(chunk));
    const lines: string[] = [];
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      lines.push(text.slice(start, end));
      start = nl + 1;
    }
    this.pending = text.slice(start);
    return lines;
  }

  /** The unterminated last line, if any; the splitter is empty afterwards. */
  end(): string | undefined {
    const rest = this.pending + this.decoder.end();
    this.pending = '';
    return rest === '' ? undefined : rest;
  }
}
