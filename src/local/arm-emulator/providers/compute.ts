/**
 * Microsoft.Compute: marketplace image versions (list honouring `$top`/`$orderby` lexicographically, as
 * ARM does; get), managed images, galleries, gallery image definitions and image versions.
 */
import type { ArmRequest, EmulatorContext } from '../context.js';
import { ArmError, badRequest, resourceNotFound } from '../errors.js';
import { type Route, route } from '../router.js';
import type { Json } from '../store.js';
import {
  acceptedResponse,
  asyncPutResponse,
  listBody,
  provisioningOperation,
  requireLocation,
  requireObjectBody,
  requireResourceGroup,
  requireSubscription,
  resourceGroupId,
  tagsOf,
} from './common.js';

export const IMAGE_TYPE = 'Microsoft.Compute/images';
export const GALLERY_TYPE = 'Microsoft.Compute/galleries';
export const GALLERY_IMAGE_TYPE = 'Microsoft.Compute/galleries/images';
export const GALLERY_IMAGE_VERSION_TYPE = 'Microsoft.Compute/galleries/images/versions';

/** Orders marketplace versions the way ARM's `$orderby=name [asc|desc]` does: as plain strings. */
export function orderVersions(
  versions: readonly string[],
  orderby: string | null,
  top: number | undefined,
): string[] {
  const sorted = [...versions].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (orderby !== null && /^name\s+desc$/i.test(orderby.trim())) sorted.reverse();
  else if (orderby !== null && !/^name(\s+asc)?$/i.test(orderby.trim())) {
    throw badRequest(
      'InvalidParameter',
      `The value '${orderby}' of $orderby is not supported: use 'name', 'name asc' or 'name desc'.`,
      '$orderby',
    );
  }
  return top === undefined ? sorted : sorted.slice(0, top);
}

function marketplaceVersions(ctx: EmulatorContext, publisher: string, offer: string, sku: string): string[] {
  const versions = ctx.marketplace.get(ctx.marketplaceKey(publisher, offer, sku));
  if (!versions) {
    throw new ArmError(
      404,
      'ArtifactNotFound',
      `Artifact: VMImage was not found (publisher '${publisher}', offer '${offer}', sku '${sku}').`,
    );
  }
  return versions;
}

function versionResourceId(
  ctx: EmulatorContext,
  location: string,
  p: string,
  o: string,
  s: string,
  v: string,
): string {
  return `/Subscriptions/${ctx.subscriptionId}/Providers/Microsoft.Compute/Locations/${location}/Publishers/${p}/ArtifactTypes/VMImage/Offers/${o}/Skus/${s}/Versions/${v}`;
}

export function imageId(sub: string, rg: string, name: string): string {
  return `${resourceGroupId(sub, rg)}/providers/Microsoft.Compute/images/${name}`;
}

/** Stores a managed image (created by a build's distribution or by a client PUT). */
export function putManagedImage(
  ctx: EmulatorContext,
  id: string,
  location: string,
  tags: Record<string, string> | undefined,
  properties: Json,
): Json {
  const name = id.split('/').at(-1)!;
  const body: Json = {
    id,
    name,
    type: IMAGE_TYPE,
    location,
    ...(tags ? { tags } : {}),
    properties: {
      storageProfile: {
        osDisk: {
          osType: 'Linux',
          osState: 'Generalized',
          caching: 'ReadWrite',
          storageAccountType: 'Standard_LRS',
          diskSizeGB: 64,
        },
        dataDisks: [],
        zoneResilient: false,
      },
      hyperVGeneration: 'V2',
      ...properties,
      provisioningState: 'Succeeded',
    },
  };
  ctx.store.put(id, IMAGE_TYPE, body, ctx.now());
  return body;
}

export function putGalleryImageVersion(
  ctx: EmulatorContext,
  id: string,
  location: string,
  tags: Record<string, string> | undefined,
  properties: Json,
): Json {
  const body: Json = {
    id,
    name: id.split('/').at(-1)!,
    type: GALLERY_IMAGE_VERSION_TYPE,
    location,
    ...(tags ? { tags } : {}),
    properties: {
      publishingProfile: {
        targetRegions: [{ name: location, regionalReplicaCount: 1, storageAccountType: 'Standard_LRS' }],
        replicaCount: 1,
        excludeFromLatest: false,
        publishedDate: ctx.isoNow(),
        storageAccountType: 'Standard_LRS',
      },
      storageProfile: { osDiskImage: { sizeInGB: 64, hostCaching: 'ReadWrite' } },
      ...properties,
      provisioningState: 'Succeeded',
    },
  };
  ctx.store.put(id, GALLERY_IMAGE_VERSION_TYPE, body, ctx.now());
  return body;
}

/** The source property a PUT would change on an existing image (Compute refuses that), if any. */
export function changedImageSource(current: Json, next: Json): string | undefined {
  const pick = (p: Json) => {
    const os = ((p.storageProfile ?? {}) as Json).osDisk as Json | undefined;
    return {
      'sourceVirtualMachine.id': ((p.sourceVirtualMachine ?? {}) as Json).id,
      'osDisk.blobUri': os?.blobUri,
      'osDisk.managedDisk.id': ((os?.managedDisk ?? {}) as Json).id,
      'osDisk.snapshot.id': ((os?.snapshot ?? {}) as Json).id,
    };
  };
  const a = pick(current);
  const b = pick(next);
  for (const key of Object.keys(a) as (keyof typeof a)[]) {
    if (b[key] !== undefined && String(b[key]).toLowerCase() !== String(a[key] ?? '').toLowerCase())
      return key;
  }
  return undefined;
}

function getOrThrow(ctx: EmulatorContext, id: string, type: string, name: string, rg: string): Json {
  const r = ctx.store.get(id);
  if (!r) throw resourceNotFound(type, name, rg);
  return r.body;
}

function asyncPut(ctx: EmulatorContext, req: ArmRequest, body: Json, created: boolean) {
  const op = provisioningOperation(
    ctx,
    req,
    'Microsoft.Compute',
    String(body.location ?? ctx.defaultLocation),
    String(body.id),
  );
  return asyncPutResponse(ctx, req, op, created, body);
}

function asyncDelete(ctx: EmulatorContext, req: ArmRequest, id: string) {
  const op = provisioningOperation(ctx, req, 'Microsoft.Compute', ctx.defaultLocation, id);
  return acceptedResponse(ctx, req, op, { location: true, asyncOperation: true });
}

const MARKET =
  '/subscriptions/{}/providers/Microsoft.Compute/locations/{}/publishers/{}/artifacttypes/vmimage/offers/{}/skus/{}/versions';
const RG = '/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Compute';

export const computeRoutes: readonly Route[] = [
  route('GET', MARKET, (ctx, req, [sub, location, p, o, s]) => {
    requireSubscription(ctx, sub!);
    const topRaw = req.query.get('$top');
    const top = topRaw === null ? undefined : Number(topRaw);
    if (top !== undefined && (!Number.isInteger(top) || top < 0)) {
      throw badRequest(
        'InvalidParameter',
        `The value '${topRaw}' of $top must be a non-negative whole number.`,
        '$top',
      );
    }
    const versions = orderVersions(marketplaceVersions(ctx, p!, o!, s!), req.query.get('$orderby'), top);
    return {
      status: 200,
      body: versions.map((v) => ({
        name: v,
        location: location!,
        id: versionResourceId(ctx, location!, p!, o!, s!, v),
      })),
    };
  }),
  route('GET', `${MARKET}/{}`, (ctx, _req, [sub, location, p, o, s, v]) => {
    requireSubscription(ctx, sub!);
    if (!marketplaceVersions(ctx, p!, o!, s!).includes(v!)) {
      throw new ArmError(404, 'ArtifactNotFound', `Artifact: VMImage was not found (version '${v}').`);
    }
    return {
      status: 200,
      body: {
        name: v!,
        location: location!,
        id: versionResourceId(ctx, location!, p!, o!, s!, v!),
        properties: {
          osDiskImage: { operatingSystem: 'Linux' },
          dataDiskImages: [],
          automaticOSUpgradeProperties: { automaticOSUpgradeSupported: false },
          hyperVGeneration: 'V2',
          architecture: 'x64',
          imageDeprecationStatus: { imageState: 'Active' },
        },
      },
    };
  }),
  route('GET', '/subscriptions/{}/providers/Microsoft.Compute/images', (ctx, _req, [sub]) => {
    requireSubscription(ctx, sub!);
    return { status: 200, body: listBody(ctx.store.list(IMAGE_TYPE).map((r) => r.body)) };
  }),
  route('GET', `${RG}/images`, (ctx, _req, [sub, rg]) => {
    requireResourceGroup(ctx, sub!, rg!);
    return {
      status: 200,
      body: listBody(ctx.store.list(IMAGE_TYPE, resourceGroupId(sub!, rg!)).map((r) => r.body)),
    };
  }),
  route('GET', `${RG}/images/{}`, (ctx, _req, [sub, rg, name]) => {
    requireResourceGroup(ctx, sub!, rg!);
    return { status: 200, body: getOrThrow(ctx, imageId(sub!, rg!, name!), IMAGE_TYPE, name!, rg!) };
  }),
  route('PUT', `${RG}/images/{}`, (ctx, req, [sub, rg, name]) => {
    requireResourceGroup(ctx, sub!, rg!);
    const input = requireObjectBody(req);
    const id = imageId(sub!, rg!, name!);
    const existing = ctx.store.get(id);
    if (existing) {
      const changed = changedImageSource(
        (existing.body.properties ?? {}) as Json,
        (input.properties ?? {}) as Json,
      );
      if (changed) {
        throw new ArmError(
          409,
          'PropertyChangeNotAllowed',
          `Changing property '${changed}' is not allowed.`,
          [
            {
              code: 'PropertyChangeNotAllowed',
              message: `Changing property '${changed}' is not allowed.`,
              target: changed,
            },
          ],
        );
      }
    }
    const created = !existing;
    const body = putManagedImage(
      ctx,
      id,
      requireLocation(input, ctx),
      tagsOf(input),
      (input.properties ?? {}) as Json,
    );
    return asyncPut(ctx, req, body, created);
  }),
  route('DELETE', `${RG}/images/{}`, (ctx, req, [sub, rg, name]) => {
    requireResourceGroup(ctx, sub!, rg!);
    const id = imageId(sub!, rg!, name!);
    if (!ctx.store.has(id)) return { status: 204 };
    ctx.store.delete(id);
    return asyncDelete(ctx, req, id);
  }),
  route('GET', `${RG}/galleries/{}`, (ctx, _req, [sub, rg, g]) => {
    requireResourceGroup(ctx, sub!, rg!);
    return {
      status: 200,
      body: getOrThrow(
        ctx,
        `${resourceGroupId(sub!, rg!)}/providers/Microsoft.Compute/galleries/${g}`,
        GALLERY_TYPE,
        g!,
        rg!,
      ),
    };
  }),
  route('PUT', `${RG}/galleries/{}`, (ctx, req, [sub, rg, g]) => {
    requireResourceGroup(ctx, sub!, rg!);
    const input = requireObjectBody(req);
    const id = `${resourceGroupId(sub!, rg!)}/providers/Microsoft.Compute/galleries/${g}`;
    const created = !ctx.store.has(id);
    const body: Json = {
      id,
      name: g!,
      type: GALLERY_TYPE,
      location: requireLocation(input, ctx),
      ...(tagsOf(input) ? { tags: tagsOf(input) } : {}),
      properties: {
        description: String(((input.properties ?? {}) as Json).description ?? ''),
        identifier: { uniqueName: `${ctx.subscriptionId}-${g!.toUpperCase()}` },
        provisioningState: 'Succeeded',
      },
    };
    ctx.store.put(id, GALLERY_TYPE, body, ctx.now());
    return asyncPut(ctx, req, body, created);
  }),
  route('GET', `${RG}/galleries/{}/images/{}`, (ctx, _req, [sub, rg, g, i]) => {
    requireResourceGroup(ctx, sub!, rg!);
    return {
      status: 200,
      body: getOrThrow(
        ctx,
        `${resourceGroupId(sub!, rg!)}/providers/Microsoft.Compute/galleries/${g}/images/${i}`,
        GALLERY_IMAGE_TYPE,
        `${g}/${i}`,
        rg!,
      ),
    };
  }),
  route('PUT', `${RG}/galleries/{}/images/{}`, (ctx, req, [sub, rg, g, i]) => {
    requireResourceGroup(ctx, sub!, rg!);
    const galleryId = `${resourceGroupId(sub!, rg!)}/providers/Microsoft.Compute/galleries/${g}`;
    if (!ctx.store.has(galleryId)) throw resourceNotFound(GALLERY_TYPE, g!, rg);
    const input = requireObjectBody(req);
    const props = (input.properties ?? {}) as Json;
    const identifier = (props.identifier ?? {}) as Json;
    if (!identifier.publisher || !identifier.offer || !identifier.sku) {
      throw badRequest(
        'InvalidParameter',
        'properties.identifier needs publisher, offer and sku.',
        'properties.identifier',
      );
    }
    if (props.osType !== 'Linux' && props.osType !== 'Windows') {
      throw badRequest(
        'InvalidParameter',
        "properties.osType must be 'Linux' or 'Windows'.",
        'properties.osType',
      );
    }
    const id = `${galleryId}/images/${i}`;
    const created = !ctx.store.has(id);
    const body: Json = {
      id,
      name: i!,
      type: GALLERY_IMAGE_TYPE,
      location: requireLocation(input, ctx),
      ...(tagsOf(input) ? { tags: tagsOf(input) } : {}),
      properties: {
        osType: props.osType,
        osState: props.osState ?? 'Generalized',
        hyperVGeneration: props.hyperVGeneration ?? 'V2',
        identifier,
        provisioningState: 'Succeeded',
      },
    };
    ctx.store.put(id, GALLERY_IMAGE_TYPE, body, ctx.now());
    return asyncPut(ctx, req, body, created);
  }),
  route('GET', `${RG}/galleries/{}/images/{}/versions`, (ctx, _req, [sub, rg, g, i]) => {
    requireResourceGroup(ctx, sub!, rg!);
    const imageDef = `${resourceGroupId(sub!, rg!)}/providers/Microsoft.Compute/galleries/${g}/images/${i}`;
    if (!ctx.store.has(imageDef)) throw resourceNotFound(GALLERY_IMAGE_TYPE, `${g}/${i}`, rg);
    return {
      status: 200,
      body: listBody(ctx.store.list(GALLERY_IMAGE_VERSION_TYPE, imageDef).map((r) => r.body)),
    };
  }),
  route('GET', `${RG}/galleries/{}/images/{}/versions/{}`, (ctx, _req, [sub, rg, g, i, v]) => {
    requireResourceGroup(ctx, sub!, rg!);
    const id = `${resourceGroupId(sub!, rg!)}/providers/Microsoft.Compute/galleries/${g}/images/${i}/versions/${v}`;
    return { status: 200, body: getOrThrow(ctx, id, GALLERY_IMAGE_VERSION_TYPE, `${g}/${i}/${v}`, rg!) };
  }),
  route('DELETE', `${RG}/galleries/{}/images/{}/versions/{}`, (ctx, req, [sub, rg, g, i, v]) => {
    requireResourceGroup(ctx, sub!, rg!);
    const id = `${resourceGroupId(sub!, rg!)}/providers/Microsoft.Compute/galleries/${g}/images/${i}/versions/${v}`;
    if (!ctx.store.has(id)) return { status: 204 };
    ctx.store.delete(id);
    return asyncDelete(ctx, req, id);
  }),
];
