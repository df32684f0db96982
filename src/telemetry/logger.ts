/**
 * One leveled, structured logger for the app. A log call carries a message and flat fields (build id,
 * definition, phase, error code); a sink decides how it is written: the Functions invocation context
 * (whose trace/debug/info/warn/error methods reach Application Insights with the matching severity),
 * JSON lines (local tools), or memory (tests). Secrets never go into fields: callers pass ids, not tokens.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

export type LogFields = Readonly<Record<string, string | number | boolean | undefined>>;

export interface LogRecord {
  readonly level: LogLevel;
  readonly message: string;
  readonly fields: LogFields;
}

export interface LogSink {
  write(record: LogRecord): void;
}

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  log(level: LogLevel, message: string, fields?: LogFields): void;
  /** A logger whose records carry these fields too (e.g. the build id). */
  child(fields: LogFields): Logger;
}

function defined(fields: LogFields): LogFields {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
}

export function createLogger(sink: LogSink, base: LogFields = {}, minLevel: LogLevel = 'debug'): Logger {
  const min = LOG_LEVELS.indexOf(minLevel);
  const log = (level: LogLevel, message: string, fields: LogFields = {}) => {
    if (LOG_LEVELS.indexOf(level) < min) return;
    sink.write({ level, message, fields: defined({ ...base, ...fields }) });
  };
  return {
    debug: (m, f) => log('debug', m, f),
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
    log,
    child: (fields) => createLogger(sink, { ...base, ...fields }, minLevel),
  };
}

/** "message {"buildId":"…"}": the text form used where a sink takes a single string. */
export function formatRecord(record: LogRecord): string {
  const keys = Object.keys(record.fields);
  return keys.length === 0 ? record.message : `${record.message} ${JSON.stringify(record.fields)}`;
}

/** The Functions InvocationContext methods that carry a severity (structurally typed: no host import). */
export interface LeveledContext {
  debug(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

/** Writes through the Functions invocation context, keeping the severity. */
export function contextSink(context: LeveledContext): LogSink {
  return {
    write(record) {
      context[record.level](formatRecord(record));
    },
  };
}

/** One JSON object per line (local tools, CI logs). */
export function jsonLinesSink(write: (line: string) => void, now: () => Date = () => new Date()): LogSink {
  return {
    write(record) {
      write(
        `${JSON.stringify({ time: now().toISOString(), level: record.level, message: record.message, ...record.fields })}\n`,
      );
    },
  };
}

/** Keeps records in memory (tests). */
export function memorySink(): LogSink & { readonly records: LogRecord[] } {
  const records: LogRecord[] = [];
  return { records, write: (r) => records.push(r) };
}

/**
 * What the build flow logs through: each call site says its level (a step that failed but did not end the
 * build is `warn`, a build that failed is `error`, progress is `info`). Any Logger is one.
 */
export type FlowLogger = Pick<Logger, 'info' | 'warn' | 'error'>;
