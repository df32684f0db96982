/**
 * `tools bump`: moves pins that `tools check` reports behind to the newest release on their track, with the
 * artifact's SHA-256 taken from the upstream's checksum file — after the file's signature verified where the
 * upstream signs it (HashiCorp's SHA256SUMS). Nothing is written unless every bumped tool verified.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { expand, type ToolPin, type ToolPins, type ToolsManifest } from '../image/tools-manifest.js';
import { kubectlSkewProblem } from './kubectl-skew.js';
import { SignatureError, verifyDetachedSignature } from './signature.js';
import { checkPins, type PinStatus, trackedTools } from './tools-check.js';
import { UpstreamError, type UpstreamFetcher } from './upstream-fetcher.js';

/** A bump refused because a download could not be verified (bad signature, no matching checksum). */
export class VerificationError extends Error {
  override readonly name = 'VerificationError';
}

export interface PinChange {
  readonly id: string;
  readonly from: string;
  readonly to: string;
  readonly sha256?: string | undefined;
  readonly verifiedBy: string;
}

/**
 * The one hash a checksum file gives for an artifact: a file holding a single bare hash (kubectl's .sha256),
 * or the line "HASH  NAME" whose NAME (without a leading * or directory) is the artifact — the same rule as
 * the install script.
 */
export function hashForArtifact(checksumFile: string, artifactName: string): string | undefined {
  const lines = checksumFile.split('\n').filter((l) => l.trim() !== '');
  const found: string[] = [];
  for (const line of lines) {
    const [hash = '', name] = line.trim().split(/\s+/);
    if (!/^[0-9a-fA-F]{64}$/.test(hash)) continue;
    if (name === undefined && lines.length === 1) found.push(hash.toLowerCase());
    if (name !== undefined && name.replace(/^\*/, '').replace(/^.*\//, '') === artifactName) {
      found.push(hash.toLowerCase());
    }
  }
  return found.length === 1 ? found[0] : undefined;
}

async function verifiedPin(
  status: PinStatus,
  manifest: ToolsManifest,
  fetcher: UpstreamFetcher,
  today: string,
): Promise<{ pin: ToolPin; change: PinChange }> {
  const to = status.latest as string;
  const tool = trackedTools(manifest).find((t) => t.id === status.id);
  const versionSource = `${status.feed} (${to}; tools bump ${today})`;
  const download = tool?.download;
  if (!download?.verify.checksumFile) {
    // azure-cli: apt verifies the signed repository index at install time; nothing to pin here.
    return {
      pin: { version: to, versionSource },
      change: {
        id: status.id,
        from: status.pinned,
        to,
        verifiedBy: 'the signed apt repository, at install time',
      },
    };
  }
  const sumsUrl = expand(download.verify.checksumFile.url, to);
  const artifact = expand(download.url, to);
  const artifactName = artifact.slice(artifact.lastIndexOf('/') + 1);
  const sums = await fetcher.bytes(sumsUrl);
  let verifiedBy = sumsUrl;
  const signature = download.verify.signature;
  if (signature) {
    const [sig, key] = await Promise.all([
      fetcher.bytes(expand(signature.url, to)),
      fetcher.bytes(expand(signature.keyUrl, to)),
    ]);
    try {
      await verifyDetachedSignature({
        data: sums,
        signature: sig,
        publicKey: key,
        fingerprint: signature.keyFingerprint,
        what: `${status.id} ${to} ${sumsUrl.slice(sumsUrl.lastIndexOf('/') + 1)}`,
      });
    } catch (e) {
      if (e instanceof SignatureError) throw new VerificationError(e.message);
      throw e;
    }
    verifiedBy = `${sumsUrl} (signature verified with key ${signature.keyFingerprint})`;
  }
  const sha256 = hashForArtifact(sums.toString('utf8'), artifactName);
  if (!sha256) {
    throw new VerificationError(`${status.id} ${to}: ${sumsUrl} has no single entry for ${artifactName}`);
  }
  return {
    pin: { version: to, versionSource, sha256, sha256Source: verifiedBy },
    change: { id: status.id, from: status.pinned, to, sha256, verifiedBy },
  };
}

export interface BumpResult {
  readonly pins: ToolPins;
  readonly changes: readonly PinChange[];
  /** Tools whose feed could not be read (left as they are). */
  readonly skipped: readonly PinStatus[];
}

/**
 * Computes the bumped pins. Throws VerificationError (nothing is bumped) when any new download cannot be
 * verified; feed errors leave that tool unchanged and are reported in `skipped`.
 */
export async function bumpPins(options: {
  readonly pins: ToolPins;
  readonly manifest: ToolsManifest;
  readonly fetcher: UpstreamFetcher;
  readonly now: Date;
  readonly only?: readonly string[] | undefined;
  /** Moves kubectl to another Kubernetes minor (the clusters' version). */
  readonly kubernetesMinor?: string | undefined;
}): Promise<BumpResult> {
  const pins: ToolPins = {
    ...options.pins,
    kubernetesMinor: options.kubernetesMinor ?? options.pins.kubernetesMinor,
  };
  const statuses = await checkPins({ ...options, pins });
  const today = options.now.toISOString().slice(0, 10);
  const tools: Record<string, ToolPin> = { ...pins.tools };
  const changes: PinChange[] = [];
  for (const s of statuses) {
    const minorChanged = pins.kubernetesMinor !== options.pins.kubernetesMinor;
    const moveMinor = minorChanged && s.id === 'kubectl' && s.latest !== undefined && s.latest !== s.pinned;
    if (s.state !== 'behind' && !moveMinor) continue;
    const { pin, change } = await verifiedPin(s, options.manifest, options.fetcher, today);
    tools[s.id] = pin;
    changes.push(change);
  }
  const kubectl = tools.kubectl?.version;
  const skew = kubectl ? kubectlSkewProblem(kubectl, pins.kubernetesMinor) : undefined;
  if (skew) throw new UpstreamError(`kubectl: ${skew}`);
  const next: ToolPins =
    options.kubernetesMinor !== undefined && options.kubernetesMinor !== options.pins.kubernetesMinor
      ? {
          ...pins,
          kubernetesMinorSource: `set by tools bump --kubernetes-minor ${options.kubernetesMinor} (${today})`,
          tools,
        }
      : { ...pins, tools };
  return { pins: next, changes, skipped: statuses.filter((s) => s.state === 'error') };
}

/** Writes tool-pins.json in one step (temporary file + rename), so a failure never leaves half a file. */
export function writePinsFile(path: string, pins: ToolPins): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(pins, null, 2)}\n`);
  renameSync(tmp, path);
}
