/**
 * The api-versions the emulator accepts, per resource provider namespace: the versions the installed
 * SDKs send (read from node_modules: @azure/arm-imagebuilder 5, @azure/arm-authorization 9,
 * @azure/arm-msi 2.2, @azure/arm-network 36, @azure/arm-compute 24, @azure/arm-resources 8 -> 2025-04-01
 * for resource groups and tags, @azure/arm-storage 20.2 -> 2026-06-01), plus a few older common
 * Microsoft.Resources and Microsoft.Storage versions.
 */
import { ArmError } from './errors.js';

export const SUPPORTED_API_VERSIONS: Readonly<Record<string, readonly string[]>> = {
  'microsoft.virtualmachineimages': ['2025-10-01'],
  'microsoft.authorization': ['2022-04-01'],
  'microsoft.managedidentity': ['2024-11-30'],
  'microsoft.network': ['2025-05-01'],
  'microsoft.compute': ['2026-03-01', '2025-03-03', '2025-01-02'],
  'microsoft.resources': ['2021-04-01', '2022-09-01', '2024-03-01', '2025-04-01'],
  'microsoft.storage': ['2023-01-01', '2023-05-01', '2024-01-01', '2025-01-01', '2026-06-01'],
};

/** The namespace a path addresses: the last `/providers/{ns}` segment, else Microsoft.Resources. */
export function namespaceOf(path: string): string {
  // Resource provider registration (/subscriptions/{id}/providers/{ns}[/register]) is Microsoft.Resources.
  if (/^\/subscriptions\/[^/]+\/providers(\/[^/]+(\/(register|unregister))?)?\/?$/i.test(path))
    return 'microsoft.resources';
  const all = [...path.matchAll(/\/providers\/([^/?]+)/gi)];
  return (all.at(-1)?.[1] ?? 'Microsoft.Resources').toLowerCase();
}

/** Throws the ARM error for a missing or unsupported api-version. */
export function checkApiVersion(path: string, apiVersion: string | null): void {
  if (apiVersion === null || apiVersion === '') {
    throw new ArmError(
      400,
      'MissingApiVersionParameter',
      'The api-version query parameter (?api-version=) is required for all requests.',
    );
  }
  const ns = namespaceOf(path);
  const supported = SUPPORTED_API_VERSIONS[ns];
  if (!supported) {
    throw new ArmError(
      400,
      'NoRegisteredProviderFound',
      `No registered resource provider found for namespace '${ns}' in this emulator.`,
    );
  }
  if (!supported.includes(apiVersion)) {
    throw new ArmError(
      400,
      'InvalidApiVersionParameter',
      `The api-version '${apiVersion}' is invalid. The supported versions are '${supported.join(',')}'.`,
    );
  }
}
