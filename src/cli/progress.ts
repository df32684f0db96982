/**
 * Terminal progress for long-running commands (`simulate`, `build --wait`).
 *
 * On a TTY: one status line redrawn in place (carriage return + erase line), cut to the terminal width
 * minus one column so that it never wraps (a line that fills the last column makes many terminals wrap
 * on the next character); log lines erase the status line, print on their own line, and the status line
 * is redrawn under them, so the two never interleave; `finish` replaces the status line with the final
 * state. Off a TTY: plain lines, one per change of state, and no escape sequences at all.
 */

export interface ProgressSink {
  write(text: string): void;
}

export interface ProgressOptions {
  /** True when the sink is a terminal that understands \r and ESC[2K. */
  readonly tty: boolean;
  /** Current terminal width in columns (read at every redraw: terminals are resized). */
  readonly columns?: () => number | undefined;
  /** Wrap the final line in a colour (TTY only, and only when the caller allows colour). */
  readonly colour?: boolean;
}

export interface ProgressState {
  /** 0-100, or undefined when there is no meaningful fraction. */
  readonly percent?: number | undefined;
  /** What is happening now, e.g. "polling / Customizing". */
  readonly label: string;
  /** Right-hand detail, e.g. "12.5 min simulated" (dropped first when the line is too narrow). */
  readonly detail?: string | undefined;
}

const ERASE_LINE = '\r\u001b[2K';
const DEFAULT_COLUMNS = 80;
const MAX_BAR = 28;
const MIN_BAR = 8;

/** Visible length (escape sequences excluded). */
export function visibleLength(s: string): number {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI escape sequences
  return s.replace(/\u001b\[[0-9;]*[A-Za-z]/g, '').length;
}

/** Control characters (a server-sent label could carry \n or ESC) become spaces: one line, no escapes. */
export function printable(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    out += c < 0x20 || (c >= 0x7f && c <= 0x9f) ? ' ' : ch;
  }
  return out;
}

function cut(s: string, width: number): string {
  if (width <= 0) return '';
  if (s.length <= width) return s;
  return width === 1 ? '…' : `${s.slice(0, width - 1)}…`;
}

function bar(percent: number, width: number): string {
  const p = Math.max(0, Math.min(100, Math.round(percent)));
  const filled = Math.round((p / 100) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(p).padStart(3)}%`;
}

/**
 * The status line for a width: bar (shrunk, then dropped), label, detail (dropped first), all within
 * `width` visible characters. Pure, so it can be tested for every width.
 */
export function statusLine(state: ProgressState, width: number): string {
  const w = Math.max(1, width);
  const label = printable(state.label);
  const detail = state.detail ? `  ${printable(state.detail)}` : '';
  const withBar = (barWidth: number) =>
    state.percent === undefined ? '' : `${bar(state.percent, barWidth)} `;
  // Try: full bar with detail, shrinking bar with detail, shrinking bar without detail, no bar.
  for (const d of [detail, '']) {
    for (let b = MAX_BAR; b >= MIN_BAR; b--) {
      const line = `${withBar(b)}${label}${d}`;
      if (line.length <= w) return line;
      if (state.percent === undefined) break;
    }
  }
  const pct = state.percent === undefined ? '' : `${String(Math.round(state.percent)).padStart(3)}% `;
  return cut(`${pct}${label}`, w);
}

export class ProgressDisplay {
  private current: ProgressState | undefined;
  private drawn = false;
  private lastPlain = '';
  private finished = false;

  constructor(
    private readonly sink: ProgressSink,
    private readonly options: ProgressOptions,
  ) {}

  private width(): number {
    const c = this.options.columns?.();
    // One column short of the terminal: writing the last column would wrap on the next character.
    return Math.max(1, (c && c > 0 ? c : DEFAULT_COLUMNS) - 1);
  }

  private draw(): void {
    if (!this.current) return;
    this.sink.write(`${ERASE_LINE}${statusLine(this.current, this.width())}`);
    this.drawn = true;
  }

  /** Shows the current state (TTY: redraws in place; otherwise a plain line when the label changed). */
  update(state: ProgressState): void {
    if (this.finished) return;
    this.current = state;
    if (this.options.tty) {
      this.draw();
      return;
    }
    const line = state.detail ? `[${state.detail}] ${state.label}` : state.label;
    if (state.label !== this.lastPlain) {
      this.sink.write(`${line}\n`);
      this.lastPlain = state.label;
    }
  }

  /** A log line: never glued to the status line (TTY: printed in its place, then the status is redrawn below). */
  log(line: string): void {
    if (!this.options.tty) {
      this.sink.write(`${line}\n`);
      return;
    }
    // Log lines are kept whole (they may carry URLs); only the redrawn status line must never wrap.
    this.sink.write(`${this.drawn ? ERASE_LINE : ''}${line}\n`);
    this.drawn = false;
    this.draw();
  }

  /** Replaces the status line with the terminal state (coloured on a TTY when allowed) and ends the line. */
  finish(line: string, ok: boolean): void {
    this.finished = true;
    if (!this.options.tty) {
      this.sink.write(`${line}\n`);
      return;
    }
    const text = cut(line, this.width());
    const coloured = this.options.colour ? `\u001b[${ok ? 32 : 31}m${text}\u001b[0m` : text;
    this.sink.write(`${this.drawn ? ERASE_LINE : ''}${coloured}\n`);
    this.drawn = false;
    this.current = undefined;
  }
}
