/**
 * A minimal terminal model for progress tests: a fixed width, auto-wrap at the right margin (as xterm and
 * most terminals do), carriage return, line feed, ESC[2K (erase line) and SGR colour codes (ignored).
 * It records every wrap, so a test can assert that output never wrapped.
 */
export class FakeTerminal {
  readonly lines: string[] = [''];
  private row = 0;
  private col = 0;
  wraps = 0;
  /** Whether the cursor sits past the last column (the next printable character wraps). */
  private pendingWrap = false;

  constructor(readonly columns: number) {}

  write(text: string): void {
    for (let i = 0; i < text.length; i++) {
      const ch = text[i]!;
      if (ch === '\u001b') {
        // biome-ignore lint/suspicious/noControlCharactersInRegex: parses the escape sequences under test
        const m = /^\u001b\[([0-9;]*)([A-Za-z])/.exec(text.slice(i));
        if (!m) throw new Error(`unsupported escape at ${JSON.stringify(text.slice(i, i + 8))}`);
        if (m[2] === 'K' && m[1] === '2') this.lines[this.row] = '';
        else if (m[2] !== 'm') throw new Error(`unsupported escape ${JSON.stringify(m[0])}`);
        i += m[0].length - 1;
      } else if (ch === '\r') {
        this.col = 0;
        this.pendingWrap = false;
      } else if (ch === '\n') {
        this.row++;
        this.col = 0;
        this.pendingWrap = false;
        if (this.lines.length <= this.row) this.lines.push('');
      } else {
        if (this.pendingWrap) {
          this.wraps++;
          this.row++;
          this.col = 0;
          this.pendingWrap = false;
          if (this.lines.length <= this.row) this.lines.push('');
        }
        const line = this.lines[this.row]!.padEnd(this.col, ' ');
        this.lines[this.row] = line.slice(0, this.col) + ch + line.slice(this.col + 1);
        this.col++;
        if (this.col === this.columns) {
          this.col = this.columns - 1;
          this.pendingWrap = true;
        }
      }
    }
  }

  /** The screen's lines with trailing blanks removed, and the last line if empty dropped. */
  screen(): string[] {
    const out = this.lines.map((l) => l.trimEnd());
    if (out.at(-1) === '') out.pop();
    return out;
  }
}
