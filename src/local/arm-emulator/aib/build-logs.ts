/**
 * The logs a build leaves in its staging storage account: `packerlogs/<run-guid>/customization.log`
 * (and `validation.log`), written to Azurite with an identity-based client (Azurite's OAuth), in order,
 * so that a response that reports a phase as done is sent only after its log is in place.
 */
import type { BlobServiceClient } from '@azure/storage-blob';
import type { EmulatedScan } from './scan-output.js';

export const LOG_CONTAINER = 'packerlogs';

export class BuildLogWriter {
  private chain: Promise<void> = Promise.resolve();
  private readonly failures: string[] = [];

  constructor(private readonly clientFor: (accountUrl: string) => BlobServiceClient) {}

  write(accountUrl: string, blobName: string, content: string): void {
    this.enqueue(async () => {
      const container = this.clientFor(accountUrl).getContainerClient(LOG_CONTAINER);
      // Azurite ignores x-ms-copy-source-authorization on copy-from-URL, so the app's server-side copy of a
      // log (authorized with its token in Azure) can only read it here when the container is readable
      // without credentials. A stand-in deviation, confined to the emulator's staging accounts.
      // (Setting the access level of an existing container needs the account key: the emulator creates it.)
      await container.createIfNotExists({ access: 'blob' });
      await container.getBlockBlobClient(blobName).upload(content, Buffer.byteLength(content), {
        blobHTTPHeaders: { blobContentType: 'text/plain; charset=utf-8' },
      });
    }, `write ${accountUrl}/${LOG_CONTAINER}/${blobName}`);
  }

  /** Deletes every blob under `prefix` (a run's folder) in the account's packerlogs container. */
  deletePrefix(accountUrl: string, prefix: string): void {
    this.enqueue(async () => {
      const container = this.clientFor(accountUrl).getContainerClient(LOG_CONTAINER);
      if (!(await container.exists())) return;
      for await (const b of container.listBlobsFlat({ prefix })) {
        await container.deleteBlob(b.name);
      }
    }, `delete ${accountUrl}/${LOG_CONTAINER}/${prefix}`);
  }

  private enqueue(job: () => Promise<void>, what: string): void {
    this.chain = this.chain.then(job).catch((e: unknown) => {
      this.failures.push(`${what}: ${e instanceof Error ? e.message : String(e)}`);
    });
  }

  /** Resolves when every queued write has finished. */
  idle(): Promise<void> {
    return this.chain;
  }

  errors(): readonly string[] {
    return this.failures;
  }
}

export interface LogContext {
  readonly templateName: string;
  readonly runGuid: string;
  readonly startMs: number;
  readonly source: string;
  readonly customizers: readonly string[];
  readonly vmSize: string;
  readonly bytes: number;
  /** Set when the build subnet has no path to the internet: the customizer's downloads fail. */
  readonly noEgress?: string | undefined;
  /** The scan customizer's output (last customizer: printed after the others' output). */
  readonly scan?: EmulatedScan | undefined;
}

const ts = (ms: number) => new Date(ms).toISOString();

function pad(lines: string[], bytes: number, filler: (i: number) => string): string[] {
  let size = lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
  const out = [...lines];
  for (let i = 0; size < bytes; i++) {
    const line = filler(i);
    out.push(line);
    size += Buffer.byteLength(line) + 1;
  }
  return out;
}

/** A Packer-style customization log; `status` decides its ending. */
export function customizationLog(
  c: LogContext,
  status: 'in-progress' | 'succeeded' | 'failed' | 'timed-out' | 'canceled',
  atMs: number,
): string {
  const head = [
    `[${ts(c.startMs)}] Starting image build for template ${c.templateName} (run ${c.runGuid})`,
    `[${ts(c.startMs)}] PACKER OUT ==> azure-arm: Running builder ...`,
    `[${ts(c.startMs)}] PACKER OUT ==> azure-arm: Getting tokens using Managed Identity for Azure`,
    `[${ts(c.startMs)}] PACKER OUT ==> azure-arm: Using existing resource group and virtual network (bring-your-own subnet)`,
    `[${ts(c.startMs)}] PACKER OUT ==> azure-arm:  -> Source image: ${c.source}`,
    `[${ts(c.startMs)}] PACKER OUT ==> azure-arm:  -> VM size: ${c.vmSize}`,
    `[${ts(c.startMs)}] PACKER OUT ==> azure-arm: Deploying deployment template ...`,
    `[${ts(c.startMs)}] PACKER OUT ==> azure-arm: Waiting for SSH to become available...`,
    `[${ts(c.startMs)}] PACKER OUT ==> azure-arm: Connected to SSH!`,
  ];
  if (status === 'in-progress') return `${head.join('\n')}\n`;
  const steps = c.customizers.length > 0 ? c.customizers : ['customize'];
  const body = steps.map(
    (name) => `[${ts(atMs)}] PACKER OUT ==> azure-arm: Provisioning with shell script: (telemetry) ${name}`,
  );
  const tail: string[] = [];
  if (c.scan && (status === 'succeeded' || (status === 'failed' && c.scan.blocked))) {
    // Packer copies the script's stdout and stderr line by line, each with its stream's prefix.
    for (const l of c.scan.lines) {
      tail.push(`[${ts(atMs)}] PACKER ${l.stream === 'out' ? 'OUT' : 'ERR'}     azure-arm: ${l.text}`);
    }
  }
  if (status === 'failed' && c.noEgress) {
    // What apt and curl print on a VM without outbound connectivity (connect timeouts), then Packer's end.
    const t = ts(atMs);
    tail.push(
      `[${t}] PACKER OUT     azure-arm: Ign:1 http://azure.archive.ubuntu.com/ubuntu noble InRelease`,
      `[${t}] PACKER OUT     azure-arm: Err:1 http://azure.archive.ubuntu.com/ubuntu noble InRelease`,
      `[${t}] PACKER OUT     azure-arm:   Could not connect to azure.archive.ubuntu.com:80 (20.62.200.1), connection timed out`,
      `[${t}] PACKER OUT     azure-arm: W: Failed to fetch http://azure.archive.ubuntu.com/ubuntu/dists/noble/InRelease  Could not connect to azure.archive.ubuntu.com:80 (20.62.200.1), connection timed out`,
      `[${t}] PACKER OUT     azure-arm: W: Some index files failed to download. They have been ignored, or old ones used instead.`,
      `[${t}] PACKER ERR     azure-arm: curl: (28) Failed to connect to github.com port 443 after 134211 ms: Couldn't connect to server`,
      `[${t}] PACKER ERR ==> azure-arm: Script exited with non-zero exit status: 28. Allowed exit codes are: [0]`,
      `[${t}] PACKER OUT Build 'azure-arm' errored after ${Math.round((atMs - c.startMs) / 60000)} minutes: Script exited with non-zero exit status: 28`,
      `[${t}] PACKER OUT ==> Builds finished but no artifacts were created.`,
    );
  } else if (status === 'failed') {
    tail.push(
      `[${ts(atMs)}] PACKER ERR ==> azure-arm: Script exited with non-zero exit status: 1. Allowed exit codes are: [0]`,
      `[${ts(atMs)}] PACKER OUT Build 'azure-arm' errored after ${Math.round((atMs - c.startMs) / 60000)} minutes: Script exited with non-zero exit status: 1`,
      `[${ts(atMs)}] PACKER OUT ==> Builds finished but no artifacts were created.`,
    );
  } else if (status === 'timed-out') {
    tail.push(`[${ts(atMs)}] PACKER ERR ==> azure-arm: Build timed out; the build VM is being torn down.`);
  } else if (status === 'canceled') {
    tail.push(`[${ts(atMs)}] PACKER ERR ==> azure-arm: Build was canceled; cleaning up.`);
  } else {
    tail.push(
      `[${ts(atMs)}] PACKER OUT ==> azure-arm: Deprovisioning VM (waagent -force -deprovision+user)`,
      `[${ts(atMs)}] PACKER OUT ==> azure-arm: Capturing image ...`,
      `[${ts(atMs)}] PACKER OUT Build 'azure-arm' finished after ${Math.round((atMs - c.startMs) / 60000)} minutes.`,
    );
  }
  const padded = pad(
    [...head, ...body],
    Math.max(0, c.bytes - tail.join('\n').length),
    (i) =>
      `[${ts(c.startMs + i * 250)}] PACKER OUT     azure-arm: Get:${i + 1} http://azure.archive.ubuntu.com/ubuntu noble-updates/main amd64 pkg-${i % 97} [${1000 + ((i * 7919) % 90000)} B]`,
  );
  return `${[...padded, ...tail].join('\n')}\n`;
}

export function validationLog(
  c: LogContext,
  validations: readonly string[],
  failed: boolean,
  atMs: number,
): string {
  const lines = [`[${ts(atMs)}] Starting validation for template ${c.templateName} (run ${c.runGuid})`];
  const names = validations.length > 0 ? validations : ['validate'];
  names.forEach((name, i) => {
    const last = i === names.length - 1;
    lines.push(`[${ts(atMs)}] PACKER OUT ==> azure-arm: Running in-VM validation: ${name}`);
    lines.push(
      failed && last
        ? `[${ts(atMs)}] PACKER ERR ==> azure-arm: Validation '${name}' exited with non-zero exit status: 1`
        : `[${ts(atMs)}] PACKER OUT     azure-arm: validation '${name}' passed`,
    );
  });
  lines.push(`[${ts(atMs)}] Validation ${failed ? 'failed' : 'succeeded'}.`);
  return `${lines.join('\n')}\n`;
}
