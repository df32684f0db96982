/**
 * Finds credentials in text: bearer tokens and JWTs, SAS signatures, storage account keys and connection
 * strings, client secrets, and any exact value the caller knows to be secret (a function key, a webhook
 * URL's secret path). Used over everything the suite and the fault matrix produce: log lines, build
 * records, notifications, problem bodies, archived blob names and metadata.
 */

export interface SecretFinding {
  readonly rule: string;
  /** Where it was found (e.g. `log`, `record aks-jumpbox.2026…`). */
  readonly source: string;
  /** The match with its middle masked, so the report itself leaks nothing. */
  readonly excerpt: string;
}

const RULES: readonly { readonly name: string; readonly pattern: RegExp }[] = [
  { name: 'jwt', pattern: /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g },
  { name: 'bearer-token', pattern: /\bBearer\s+(?!REDACTED\b)[A-Za-z0-9._~+/-]{16,}=*/gi },
  { name: 'sas-signature', pattern: /[?&]sig=[A-Za-z0-9%+/=]{10,}/gi },
  { name: 'sas-token', pattern: /\bsv=\d{4}-\d{2}-\d{2}&[^\s"']*\bsig=/gi },
  { name: 'account-key', pattern: /\bAccountKey=[^;\s"']{8,}/gi },
  { name: 'connection-string-sas', pattern: /\bSharedAccessSignature=[^;\s"']{8,}/gi },
  { name: 'shared-key-auth', pattern: /\bSharedKey(?:Lite)?\s+[A-Za-z0-9]+:[A-Za-z0-9+/=]{20,}/g },
  { name: 'storage-key', pattern: /(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{86}==(?![A-Za-z0-9+/=])/g },
  { name: 'client-secret', pattern: /\bclient_secret=[^&\s"']{6,}/gi },
  { name: 'function-key-query', pattern: /[?&]code=[A-Za-z0-9_-]{20,}={0,2}/g },
];

function mask(s: string): string {
  return s.length <= 12 ? `${s.slice(0, 3)}…` : `${s.slice(0, 8)}…${s.slice(-3)}`;
}

export class SecretScanner {
  readonly findings: SecretFinding[] = [];
  private scanned = 0;

  /** @param known exact secret values (at least 8 characters each; shorter ones are ignored). */
  constructor(private readonly known: readonly string[] = []) {}

  scan(source: string, text: string | undefined | null): void {
    if (!text) return;
    this.scanned += 1;
    for (const rule of RULES) {
      for (const m of text.matchAll(rule.pattern)) {
        this.findings.push({ rule: rule.name, source, excerpt: mask(m[0]) });
      }
    }
    for (const value of this.known) {
      if (value.length >= 8 && text.includes(value))
        this.findings.push({ rule: 'known-secret', source, excerpt: mask(value) });
    }
  }

  scanJson(source: string, value: unknown): void {
    this.scan(source, value === undefined ? undefined : JSON.stringify(value));
  }

  /** How many texts were scanned. */
  get count(): number {
    return this.scanned;
  }
}
