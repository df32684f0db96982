/**
 * Resolves the exact marketplace version a build uses: the newest by numeric comparison of the dotted
 * parts (`$orderby` on the service sorts lexicographically: 9 > 10), or the pinned one, checked to exist.
 */
import { permanent } from '../azure/errors.js';
import { type ActivityDeps, definitionOf } from './deps.js';

/** Numeric comparison of dotted versions ("24.04.202511060" vs "24.04.20251107"). Non-numeric parts compare as text. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.');
  const pb = b.split('.');
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const nx = /^\d+$/.test(x) ? BigInt(x) : undefined;
    const ny = /^\d+$/.test(y) ? BigInt(y) : undefined;
    if (nx !== undefined && ny !== undefined) {
      if (nx !== ny) return nx < ny ? -1 : 1;
    } else if (x !== y) {
      return x < y ? -1 : 1;
    }
  }
  return 0;
}

export function newestVersion(versions: readonly string[]): string | undefined {
  return [...versions].sort(compareVersions).at(-1);
}

export interface SourceImage {
  readonly publisher: string;
  readonly offer: string;
  readonly sku: string;
  /** Exact version (never "latest"). */
  readonly version: string;
}

export async function resolveSourceVersion(
  deps: Pick<ActivityDeps, 'config' | 'clients'>,
  input: { definition: string },
): Promise<SourceImage> {
  const def = definitionOf(deps.config, input.definition);
  const { publisher, offer, sku, version } = def.source;
  const listed = await deps.clients.compute.virtualMachineImages.list(
    deps.config.location,
    publisher,
    offer,
    sku,
  );
  const versions = listed.map((v) => v.name).filter((n): n is string => typeof n === 'string');
  if (version.toLowerCase() === 'latest') {
    const newest = newestVersion(versions);
    if (!newest) {
      throw permanent(
        'SourceImageNotFound',
        `no versions of ${publisher}:${offer}:${sku} in ${deps.config.location}; fix source in IMAGE_DEFINITIONS[${def.name}]`,
      );
    }
    return { publisher, offer, sku, version: newest };
  }
  if (!versions.includes(version)) {
    throw permanent(
      'SourceImageVersionNotFound',
      `version ${version} of ${publisher}:${offer}:${sku} is not offered in ${deps.config.location}; pin an available version or use "latest" in IMAGE_DEFINITIONS[${def.name}].source.version`,
    );
  }
  return { publisher, offer, sku, version };
}
