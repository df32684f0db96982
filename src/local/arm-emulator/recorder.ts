/** Records every exchange (tokens redacted), in memory and optionally as JSON lines in a file. */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface RecordedExchange {
  readonly request: {
    readonly method: string;
    readonly url: string;
    readonly headers: Record<string, string>;
    readonly body: unknown;
  };
  readonly response: {
    readonly statusCode: number;
    readonly headers: Record<string, string>;
    readonly body: unknown;
  };
}

const SECRET_HEADERS = new Set(['authorization', 'x-ms-authorization-auxiliary', 'cookie', 'set-cookie']);

export function redactHeaders(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    const value = Array.isArray(v) ? v.join(', ') : v;
    out[k.toLowerCase()] = SECRET_HEADERS.has(k.toLowerCase()) ? redactToken(value) : value;
  }
  return out;
}

function redactToken(value: string): string {
  const scheme = /^(\w+)\s/.exec(value)?.[1];
  return scheme ? `${scheme} REDACTED` : 'REDACTED';
}

/** A body as JSON when it parses, else the text (or undefined when empty). */
export function bodyForRecord(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export class ExchangeRecorder {
  private readonly exchanges: RecordedExchange[] = [];

  /** @param maxInMemory the newest exchanges kept for state.requests() (the file gets all of them). */
  constructor(
    private readonly file?: string,
    private readonly maxInMemory = 100_000,
  ) {
    if (file) {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, '', { flag: 'a' });
    }
  }

  record(exchange: RecordedExchange): void {
    this.exchanges.push(exchange);
    if (this.exchanges.length > this.maxInMemory)
      this.exchanges.splice(0, this.exchanges.length - this.maxInMemory);
    if (this.file) appendFileSync(this.file, `${JSON.stringify(exchange)}\n`);
  }

  all(): readonly RecordedExchange[] {
    return this.exchanges;
  }

  clear(): void {
    this.exchanges.length = 0;
  }
}
