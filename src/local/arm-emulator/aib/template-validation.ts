/**
 * The synchronous validation Image Builder applies to a template PUT (400 answers), and the canonical
 * form used to decide whether a PUT on an existing template changes it (409) or repeats it (200).
 */
import { ArmError } from '../errors.js';
import type { Json } from '../store.js';

export const TEMPLATE_NAME = /^[A-Za-z0-9-_.]{1,64}$/;
const RUN_OUTPUT_NAME = /^[A-Za-z0-9-_.]{1,64}$/;
const SUBNET_ID =
  /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Network\/virtualNetworks\/[^/]+\/subnets\/[^/]+$/i;
const IDENTITY_ID =
  /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/[^/]+$/i;
const IMAGE_ID =
  /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Compute\/images\/[^/]+$/i;
const GALLERY_IMAGE_ID =
  /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Compute\/galleries\/[^/]+\/images\/[^/]+(\/versions\/\d+\.\d+\.\d+)?$/i;
const RG_ID = /^\/subscriptions\/([^/]+)\/resourceGroups\/([-\w._()]{1,90})$/i;

const TEMPLATE_PROPERTIES = new Set([
  'source',
  'customize',
  'optimize',
  'validate',
  'distribute',
  'errorHandling',
  'buildTimeoutInMinutes',
  'vmProfile',
  'additionalDataDisks',
  'stagingResourceGroup',
  'autoRun',
  'managedResourceTags',
  // read-only, ignored when sent back
  'provisioningState',
  'provisioningError',
  'lastRunStatus',
  'exactStagingResourceGroup',
]);
const READ_ONLY = ['provisioningState', 'provisioningError', 'lastRunStatus', 'exactStagingResourceGroup'];

function invalid(target: string, message: string): ArmError {
  return new ArmError(400, 'InvalidParameter', `${target}: ${message}`, [
    { code: 'InvalidParameter', message, target },
  ]);
}

function obj(value: unknown): Json | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined;
}

export interface ValidatedTemplate {
  readonly identityId: string;
  readonly stagingResourceGroup?: { subscriptionId: string; name: string };
  readonly subnetId?: string;
  readonly containerInstanceSubnetId?: string;
}

/** Throws a 400 ArmError naming the first invalid field and how to fix it. */
export function validateTemplateBody(name: string, body: Json, subscriptionId: string): ValidatedTemplate {
  if (!TEMPLATE_NAME.test(name)) {
    throw invalid(
      'imageTemplateName',
      `'${name}' is not a valid image template name: use 1-64 letters, digits, hyphens, underscores and periods.`,
    );
  }
  if (typeof body.location !== 'string' || body.location.trim() === '')
    throw invalid('location', 'is required.');
  const identity = obj(body.identity);
  if (!identity)
    throw invalid('identity', 'is required: an image template needs exactly one user-assigned identity.');
  if (identity.type !== 'UserAssigned') {
    throw invalid(
      'identity.type',
      `must be 'UserAssigned' (got '${String(identity.type)}'); Image Builder needs exactly one user-assigned identity.`,
    );
  }
  const uai = obj(identity.userAssignedIdentities);
  const keys = uai ? Object.keys(uai) : [];
  if (keys.length !== 1) {
    throw invalid(
      'identity.userAssignedIdentities',
      `must contain exactly one user-assigned identity (found ${keys.length}).`,
    );
  }
  const identityId = keys[0]!;
  if (!IDENTITY_ID.test(identityId)) {
    throw invalid(
      'identity.userAssignedIdentities',
      `'${identityId}' is not a user-assigned identity resource id.`,
    );
  }
  const props = obj(body.properties);
  if (!props) throw invalid('properties', 'is required.');
  const unknown = Object.keys(props).filter((k) => !TEMPLATE_PROPERTIES.has(k));
  if (unknown.length > 0) {
    throw invalid(`properties.${unknown[0]}`, 'is not a recognized field (field names are case-sensitive).');
  }
  validateSource(obj(props.source));
  validateCustomizers(props.customize);
  validateDistributors(props.distribute);
  const timeout = props.buildTimeoutInMinutes;
  if (
    timeout !== undefined &&
    (!Number.isInteger(timeout) || (timeout as number) < 0 || (timeout as number) > 960)
  ) {
    throw invalid(
      'properties.buildTimeoutInMinutes',
      'must be a whole number from 0 to 960 (0 means the default of 240).',
    );
  }
  const validate = obj(props.validate);
  if (props.validate !== undefined && !validate) throw invalid('properties.validate', 'must be an object.');
  if (validate?.inVMValidations !== undefined)
    validateCustomizers(validate.inVMValidations, 'properties.validate.inVMValidations');
  let subnetId: string | undefined;
  const vnetConfig = obj(obj(props.vmProfile)?.vnetConfig);
  if (vnetConfig?.subnetId !== undefined) {
    if (typeof vnetConfig.subnetId !== 'string' || !SUBNET_ID.test(vnetConfig.subnetId)) {
      throw invalid(
        'properties.vmProfile.vnetConfig.subnetId',
        'must be a subnet resource id (/subscriptions/.../virtualNetworks/{vnet}/subnets/{subnet}).',
      );
    }
    subnetId = vnetConfig.subnetId;
  }
  // Isolated builds: https://learn.microsoft.com/azure/virtual-machines/linux/image-builder-json#vnetconfig-optional
  let containerInstanceSubnetId: string | undefined;
  if (vnetConfig?.containerInstanceSubnetId !== undefined && vnetConfig.containerInstanceSubnetId !== '') {
    const aci = vnetConfig.containerInstanceSubnetId;
    if (typeof aci !== 'string' || !SUBNET_ID.test(aci)) {
      throw invalid(
        'properties.vmProfile.vnetConfig.containerInstanceSubnetId',
        'must be a subnet resource id (/subscriptions/.../virtualNetworks/{vnet}/subnets/{subnet}).',
      );
    }
    if (subnetId === undefined) {
      throw invalid(
        'properties.vmProfile.vnetConfig.containerInstanceSubnetId',
        'may be specified only if vmProfile.vnetConfig.subnetId is also specified.',
      );
    }
    if (typeof vnetConfig.proxyVmSize === 'string' && vnetConfig.proxyVmSize !== '') {
      throw invalid(
        'properties.vmProfile.vnetConfig.proxyVmSize',
        'must not be specified with containerInstanceSubnetId: isolated builds deploy no proxy VM.',
      );
    }
    containerInstanceSubnetId = aci;
  }
  let staging: ValidatedTemplate['stagingResourceGroup'];
  if (props.stagingResourceGroup !== undefined && props.stagingResourceGroup !== '') {
    const m = typeof props.stagingResourceGroup === 'string' ? RG_ID.exec(props.stagingResourceGroup) : null;
    if (!m)
      throw invalid(
        'properties.stagingResourceGroup',
        'must be a resource group id: /subscriptions/{subscriptionId}/resourceGroups/{name}.',
      );
    if (m[1]!.toLowerCase() !== subscriptionId.toLowerCase()) {
      throw invalid(
        'properties.stagingResourceGroup',
        'must be in the same subscription as the image template.',
      );
    }
    staging = { subscriptionId: m[1]!, name: m[2]! };
  }
  return {
    identityId,
    ...(staging ? { stagingResourceGroup: staging } : {}),
    ...(subnetId ? { subnetId } : {}),
    ...(containerInstanceSubnetId ? { containerInstanceSubnetId } : {}),
  };
}

function validateSource(source: Json | undefined): void {
  if (!source) throw invalid('properties.source', 'is required.');
  switch (source.type) {
    case 'PlatformImage':
      for (const f of ['publisher', 'offer', 'sku', 'version']) {
        if (typeof source[f] !== 'string' || source[f] === '')
          throw invalid(`properties.source.${f}`, 'is required for a PlatformImage source.');
      }
      return;
    case 'ManagedImage':
      if (typeof source.imageId !== 'string')
        throw invalid('properties.source.imageId', 'is required for a ManagedImage source.');
      return;
    case 'SharedImageVersion':
      if (typeof source.imageVersionId !== 'string')
        throw invalid('properties.source.imageVersionId', 'is required for a SharedImageVersion source.');
      return;
    default:
      throw invalid(
        'properties.source.type',
        `must be PlatformImage, ManagedImage or SharedImageVersion (got '${String(source.type)}').`,
      );
  }
}

function validateCustomizers(value: unknown, target = 'properties.customize'): void {
  if (value === undefined) return;
  if (!Array.isArray(value)) throw invalid(target, 'must be an array.');
  value.forEach((c: unknown, i) => {
    const item = obj(c);
    const at = `${target}[${i}]`;
    if (!item) throw invalid(at, 'must be an object.');
    switch (item.type) {
      case 'Shell':
      case 'PowerShell': {
        const hasUri = typeof item.scriptUri === 'string' && item.scriptUri !== '';
        const hasInline = Array.isArray(item.inline) && item.inline.length > 0;
        if (hasUri === hasInline)
          throw invalid(
            at,
            `a ${item.type} step needs either scriptUri or a non-empty inline array (not both).`,
          );
        if (
          hasUri &&
          item.sha256Checksum !== undefined &&
          !/^[0-9a-fA-F]{64}$/.test(String(item.sha256Checksum))
        ) {
          throw invalid(`${at}.sha256Checksum`, 'must be 64 hexadecimal characters.');
        }
        return;
      }
      case 'File':
        if (typeof item.sourceUri !== 'string' || typeof item.destination !== 'string') {
          throw invalid(at, 'a File step needs sourceUri and destination.');
        }
        return;
      case 'WindowsRestart':
      case 'WindowsUpdate':
        return;
      default:
        throw invalid(`${at}.type`, `is not a supported customizer type: '${String(item.type)}'.`);
    }
  });
}

export function validateDistributors(value: unknown): void {
  if (!Array.isArray(value) || value.length === 0)
    throw invalid('properties.distribute', 'is required: at least one distribution target.');
  const names = new Set<string>();
  value.forEach((d: unknown, i) => {
    const item = obj(d);
    const at = `properties.distribute[${i}]`;
    if (!item) throw invalid(at, 'must be an object.');
    if (typeof item.runOutputName !== 'string' || !RUN_OUTPUT_NAME.test(item.runOutputName)) {
      throw invalid(
        `${at}.runOutputName`,
        'is required: 1-64 letters, digits, hyphens, underscores and periods.',
      );
    }
    if (names.has(item.runOutputName.toLowerCase()))
      throw invalid(`${at}.runOutputName`, `'${item.runOutputName}' is used twice.`);
    names.add(item.runOutputName.toLowerCase());
    switch (item.type) {
      case 'ManagedImage':
        if (typeof item.imageId !== 'string' || !IMAGE_ID.test(item.imageId)) {
          throw invalid(
            `${at}.imageId`,
            'must be a managed image resource id (/subscriptions/.../providers/Microsoft.Compute/images/{name}).',
          );
        }
        if (typeof item.location !== 'string' || item.location === '')
          throw invalid(`${at}.location`, 'is required.');
        return;
      case 'SharedImage':
        if (typeof item.galleryImageId !== 'string' || !GALLERY_IMAGE_ID.test(item.galleryImageId)) {
          throw invalid(
            `${at}.galleryImageId`,
            'must be a gallery image definition id (.../galleries/{gallery}/images/{image}).',
          );
        }
        return;
      case 'VHD':
        return;
      default:
        throw invalid(`${at}.type`, `must be ManagedImage, SharedImage or VHD (got '${String(item.type)}').`);
    }
  });
}

function stable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stable);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Json)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => [k, stable(v)]),
    );
  }
  return value;
}

/** The content that decides "same template": location, tags, identity and writable properties. */
export function canonicalTemplate(body: Json): string {
  const props = { ...(obj(body.properties) ?? {}) };
  for (const k of READ_ONLY) delete props[k];
  const source = obj(props.source);
  if (source) {
    const { exactVersion: _ignored, ...rest } = source;
    props.source = rest;
  }
  const identity = obj(body.identity) ?? {};
  const ids = Object.keys(obj(identity.userAssignedIdentities) ?? {}).map((k) => k.toLowerCase());
  return JSON.stringify(
    stable({
      location: String(body.location ?? '')
        .replace(/\s+/g, '')
        .toLowerCase(),
      tags: body.tags ?? {},
      identity: { type: identity.type, ids },
      properties: props,
    }),
  );
}
