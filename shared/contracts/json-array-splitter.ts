/** One top-level element of a JSON array: its text (unparsed) and the 1-based line it starts on. */
export interface ArrayElement {
  text: string;
  line: number;
}

export type SplitEvent =
  ({ kind: 'element' } & ArrayElement) | { kind: 'error'; line: number; reason: string };

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0xfeff;
}

/**
 * Cuts a JSON array arriving in chunks into the text of its top-level elements, holding only the element
 * being read: an export of millions of assets never sits in memory whole. It only tracks strings and nesting
 * depth; each element's own syntax is left to JSON.parse, so one malformed element costs one record.
 * After a structural error (text outside the array) it stops emitting.
 */
export class JsonArraySplitter {
  private state: 'start' | 'between' | 'element' | 'done' | 'failed' = 'start';
  private line = 1;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private elementLine = 0;
  private pieces: string[] = [];
  private elements = 0;

  push(chunk: string): SplitEvent[] {
    const events: SplitEvent[] = [];
    let start = this.state === 'element' ? 0 : -1;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (this.state === 'element') {
        if (this.inString) {
          if (this.escaped) this.escaped = false;
          else if (c === BACKSLASH) this.escaped = true;
          else if (c === QUOTE) this.inString = false;
        } else if (c === QUOTE) {
          this.inString = true;
        } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
          this.depth++;
        } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
          if (this.depth === 0) {
            // The array's own closing bracket (closing braces at depth 0 are the element's syntax problem).
            if (c === CLOSE_BRACKET) {
              this.emit(events, chunk.slice(start, i));
              start = -1;
              this.state = 'done';
            }
          } else {
            this.depth--;
          }
        } else if (c === COMMA && this.depth === 0) {
          this.emit(events, chunk.slice(start, i));
          start = -1;
          this.state = 'between';
        }
      } else if (this.state === 'between' || this.state === 'start') {
        if (isWhitespace(c)) {
          // skip
        } else if (this.state === 'start') {
          if (c !== OPEN_BRACKET) {
            return this.fail(events, `expected '[' to open a JSON array, found '${chunk[i]}'`);
          }
          this.state = 'between';
        } else if (c === CLOSE_BRACKET && this.elements === 0) {
          this.state = 'done';
        } else if (c === COMMA || c === CLOSE_BRACKET) {
          events.push({
            kind: 'error',
            line: this.line,
            reason: `unexpected '${chunk[i]}': missing array element`,
          });
          if (c === CLOSE_BRACKET) this.state = 'done';
        } else {
          this.state = 'element';
          this.elementLine = this.line;
          this.depth = c === OPEN_BRACE || c === OPEN_BRACKET ? 1 : 0;
          this.inString = c === QUOTE;
          this.escaped = false;
          start = i;
        }
      } else if (this.state === 'done') {
        if (!isWhitespace(c)) return this.fail(events, `unexpected '${chunk[i]}' after the end of the array`);
      } else {
        return events;
      }
      if (c === NEWLINE) this.line++;
    }
    if (this.state === 'element' && start >= 0) this.pieces.push(chunk.slice(start));
    return events;
  }

  /** Call once the input is exhausted: reports an array that never closed. */
  end(): SplitEvent[] {
    if (this.state === 'done' || this.state === 'failed') return [];
    if (this.state === 'start') {
      return [{ kind: 'error', line: this.line, reason: 'empty input: no JSON array' }];
    }
    const events: SplitEvent[] = [];
    if (this.state === 'element' && this.depth === 0 && !this.inString) {
      // A scalar last element is complete as far as anyone can tell; only the array's ']' is missing.
      this.emit(events, '');
      this.state = 'between';
    }
    const reason =
      this.state === 'element'
        ? `array element starting here never ends (unbalanced brackets or an unterminated string)`
        : `the JSON array is not closed with ']'`;
    const line = this.state === 'element' ? this.elementLine : this.line;
    this.state = 'failed';
    this.pieces = [];
    events.push({ kind: 'error', line, reason });
    return events;
  }

  private emit(events: SplitEvent[], tail: string): void {
    this.pieces.push(tail);
    const text = this.pieces.join('').trim();
    this.pieces = [];
    this.elements++;
    events.push({ kind: 'element', text, line: this.elementLine });
  }

  private fail(events: SplitEvent[], reason: string): SplitEvent[] {
    this.state = 'failed';
    events.push({ kind: 'error', line: this.line, reason });
    return events;
  }
}
