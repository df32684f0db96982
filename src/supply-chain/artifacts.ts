/**
 * Artifacts that leave the build VM inside customization.log: the scan customizer (jumpbox-scan.sh) prints
 * each file between markers on stdout, which Packer copies into the log that the app already archives:
 *
 *   <packer prefix>JUMPBOX-ARTIFACT-BEGIN sbom sha256=<hex> encoding=gzip+base64
 *   <packer prefix><76 base64 characters>
 *   ...
 *   <packer prefix>JUMPBOX-ARTIFACT-END sbom
 *
 * The extractor reads the log line by line (a log can be hundreds of MB; only the artifacts are kept),
 * takes the last whitespace-separated token of each line inside a block (Packer's prefix varies; base64
 * has no spaces), ignores Packer's stderr lines, decodes and checks the SHA-256 the VM printed.
 */
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { ARTIFACT_BEGIN, ARTIFACT_END } from '../image/customizer-scripts.js';

export const ARTIFACT_NAMES = ['sbom', 'vulnerabilities', 'tools'] as const;
export type ArtifactName = (typeof ARTIFACT_NAMES)[number];

export interface ExtractedArtifact {
  readonly name: ArtifactName;
  readonly content: Buffer;
  readonly sha256: string;
}

export interface Extraction {
  readonly artifacts: Partial<Record<ArtifactName, ExtractedArtifact>>;
  /** Blocks that could not be used (truncated, bad encoding, hash mismatch), one line each. */
  readonly problems: readonly string[];
  /** The scan script said the gate failed (`vulnerability gate failed` on its stderr). */
  readonly gateFailed: boolean;
  /** The scan customizer ran (its log lines are present). */
  readonly scanRan: boolean;
}

const BEGIN = new RegExp(
  `${ARTIFACT_BEGIN} ([a-z]+) sha256=([0-9a-f]{64}) encoding=(gzip\\+base64|base64)\\s*$`,
);
const END = new RegExp(`${ARTIFACT_END} ([a-z]+)\\s*$`);
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
/** What the scan script prints when the gate blocks (src/image/customizer-scripts.ts). */
export const GATE_FAILED_TEXT = '[jumpbox-scan] ERROR: vulnerability gate failed';
const SCAN_RAN_TEXT = '[jumpbox-scan]';
/** Most bytes one artifact may have in the log (base64); larger blocks are dropped as a problem. */
export const MAX_ARTIFACT_BASE64 = 64 * 1024 * 1024;

/** Line-at-a-time extraction state (usable on a stream or on a string). */
export class ArtifactExtractor {
  private open:
    | { name: string; sha256: string; encoding: string; chunks: string[]; size: number }
    | undefined;
  private readonly found: Partial<Record<ArtifactName, ExtractedArtifact>> = {};
  private readonly problems: string[] = [];
  private gateFailed = false;
  private scanRan = false;

  line(raw: string): void {
    const line = raw.replace(/\r$/, '');
    if (!this.scanRan && line.includes(SCAN_RAN_TEXT)) this.scanRan = true;
    if (line.includes(GATE_FAILED_TEXT)) this.gateFailed = true;
    const begin = BEGIN.exec(line);
    if (begin) {
      if (this.open) this.problems.push(`${this.open.name}: no end marker before the next artifact`);
      this.open = { name: begin[1]!, sha256: begin[2]!, encoding: begin[3]!, chunks: [], size: 0 };
      return;
    }
    if (!this.open) return;
    const end = END.exec(line);
    if (end) {
      if (end[1] === this.open.name) this.close(this.open);
      else this.problems.push(`${this.open.name}: ended by the end marker of ${end[1]}`);
      this.open = undefined;
      return;
    }
    // Packer copies stderr too ("PACKER ERR"); an artifact is printed on stdout only.
    if (/PACKER ERR/.test(line)) return;
    const token = line.trim().split(/\s+/).at(-1) ?? '';
    if (token === '') return;
    if (!BASE64.test(token)) {
      this.problems.push(`${this.open.name}: a line in the block is not base64`);
      this.open = undefined;
      return;
    }
    this.open.size += token.length;
    if (this.open.size > MAX_ARTIFACT_BASE64) {
      this.problems.push(`${this.open.name}: larger than ${MAX_ARTIFACT_BASE64} base64 characters`);
      this.open = undefined;
      return;
    }
    this.open.chunks.push(token);
  }

  private close(block: NonNullable<ArtifactExtractor['open']>): void {
    if (!(ARTIFACT_NAMES as readonly string[]).includes(block.name)) {
      this.problems.push(`${block.name}: not an artifact the app knows (ignored)`);
      return;
    }
    let content: Buffer;
    try {
      const raw = Buffer.from(block.chunks.join(''), 'base64');
      content = block.encoding === 'gzip+base64' ? gunzipSync(raw) : raw;
    } catch (e) {
      this.problems.push(`${block.name}: cannot decode (${(e as Error).message})`);
      return;
    }
    const sha256 = createHash('sha256').update(content).digest('hex');
    if (sha256 !== block.sha256) {
      this.problems.push(
        `${block.name}: sha256 mismatch (the VM printed ${block.sha256}, decoded ${sha256})`,
      );
      return;
    }
    // A later block of the same name (a retried customizer) replaces an earlier one.
    this.found[block.name as ArtifactName] = { name: block.name as ArtifactName, content, sha256 };
  }

  result(): Extraction {
    const problems = [...this.problems];
    if (this.open) problems.push(`${this.open.name}: the log ends inside the artifact (truncated)`);
    return { artifacts: { ...this.found }, problems, gateFailed: this.gateFailed, scanRan: this.scanRan };
  }
}

/** Extracts from a whole log held in memory (tests, small logs). */
export function extractArtifacts(log: string): Extraction {
  const x = new ArtifactExtractor();
  for (const line of log.split('\n')) x.line(line);
  return x.result();
}

/** Extracts from a stream (the archived blob's download), line by line. */
export async function extractArtifactsFromStream(
  stream: Readable | NodeJS.ReadableStream,
): Promise<Extraction> {
  const x = new ArtifactExtractor();
  const lines = createInterface({ input: stream as Readable, crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of lines) x.line(line);
  return x.result();
}

/**
 * The block the scan script prints for a file (the same bytes as its `emit_artifact`: gzip -9 -n, base64
 * wrapped at 76), without Packer's prefix. The emulator uses it to write realistic logs.
 */
export function encodeArtifact(name: string, content: Buffer, gzip: (b: Buffer) => Buffer): string[] {
  const sha = createHash('sha256').update(content).digest('hex');
  const b64 = gzip(content).toString('base64');
  const lines = [`${ARTIFACT_BEGIN} ${name} sha256=${sha} encoding=gzip+base64`];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  lines.push(`${ARTIFACT_END} ${name}`);
  return lines;
}
