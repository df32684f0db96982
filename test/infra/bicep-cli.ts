/**
 * The NuGet-restored Bicep CLI (tools/bicep/restore.sh), when present, and a deployment snapshot made with it:
 * `bicep snapshot` evaluates a .bicepparam offline into the resources a deployment would create.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Path of the restored Bicep CLI, or undefined when tools/bicep/restore.sh has not run. */
export function bicepBinary(): string | undefined {
  const csproj = readFileSync(join(repoRoot, 'tools/bicep/bicep-tools.csproj'), 'utf8');
  const version = /<BicepVersion>([^<]+)<\/BicepVersion>/.exec(csproj)?.[1];
  if (!version) throw new Error('tools/bicep/bicep-tools.csproj has no <BicepVersion>');
  const bin = join(repoRoot, 'tools/bin/packages/azure.bicep.commandline.linux-x64', version, 'tools/bicep');
  return existsSync(bin) ? bin : undefined;
}

export interface PredictedResource {
  readonly id: string;
  readonly type: string;
  readonly name: string;
  readonly location?: string;
  readonly kind?: string;
  readonly tags?: Record<string, string>;
  // biome-ignore lint/suspicious/noExplicitAny: snapshot properties are arbitrary ARM resource bodies
  readonly properties?: Record<string, any>;
}

export interface DeploymentSnapshot {
  readonly predictedResources: readonly PredictedResource[];
  readonly diagnostics: readonly unknown[];
  readonly outputs: Record<string, unknown>;
}

export interface SnapshotTarget {
  readonly subscriptionId: string;
  readonly tenantId: string;
  readonly location: string;
}

/** Snapshots infra/main.bicep with the given parameter assignments (Bicep syntax, one per line). */
export async function snapshotMain(
  bin: string,
  paramLines: readonly string[],
  target: SnapshotTarget,
): Promise<DeploymentSnapshot> {
  const dir = mkdtempSync(join(tmpdir(), 'bicep-snapshot-'));
  try {
    const paramsFile = join(dir, 'test.bicepparam');
    const using = relative(dir, join(repoRoot, 'infra/main.bicep'));
    writeFileSync(paramsFile, [`using '${using}'`, ...paramLines, ''].join('\n'));
    await promisify(execFile)(
      bin,
      [
        'snapshot',
        paramsFile,
        '--mode',
        'overwrite',
        '--subscription-id',
        target.subscriptionId,
        '--tenant-id',
        target.tenantId,
        '--location',
        target.location,
        '--deployment-name',
        'test',
      ],
      { timeout: 600_000, env: { ...process.env, DOTNET_CLI_TELEMETRY_OPTOUT: '1' } },
    );
    return JSON.parse(readFileSync(join(dir, 'test.snapshot.json'), 'utf8')) as DeploymentSnapshot;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
