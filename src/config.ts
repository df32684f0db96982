/**
 * App settings, parsed and validated once at start-up into an immutable typed object.
 * Every problem is collected and reported together, each naming the setting and the expected form.
 */
import { z } from 'zod';
import {
  isGuid,
  isResourceGroupName,
  normalizeRoleDefinitionId,
  parseSubnetId,
  parseUserAssignedIdentityId,
  ResourceIdError,
  type SubnetId,
  type UserAssignedIdentityId,
} from './azure/resource-id.js';
import {
  DEFAULT_DEFINITION_NAME,
  type ImageDefinition,
  imageDefinitionsSchema,
  isGallerySource,
  vnetOf,
} from './image/definition.js';
import { formatDefinitionProblems } from './image/definition-errors.js';

export interface ConfigProblem {
  readonly setting: string;
  readonly message: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(
      `Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems
        .map((p) => `  - ${p.setting}: ${p.message}`)
        .join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}

export interface AppConfig {
  readonly subscriptionId: string;
  readonly location: string;
  readonly resourceGroups: {
    /** Holds the image templates. */
    readonly imageBuilder: string;
    /** Receives the managed images. */
    readonly destination: string;
    /** Per-definition staging groups are `${stagingPrefix}${definition}`. */
    readonly stagingPrefix: string;
  };
  readonly buildSubnet: SubnetId;
  readonly builderIdentity: UserAssignedIdentityId & { readonly createIfMissing: boolean };
  readonly roles: {
    /** Custom "Image Builder Network Joiner" role definition id (subscription-scoped). */
    readonly networkJoiner: string;
    /** Custom "Image Builder Image Contributor" role definition id (subscription-scoped). */
    readonly imageContributor: string;
  };
  readonly archive: { readonly accountUrl: string; readonly container: string };
  readonly records: { readonly tableEndpoint: string; readonly tableName: string };
  readonly schedules: {
    readonly monthlyRebuild: string;
    /** Minutes over which the monthly rebuild's builds start (at most 16 at once); 0 starts all at once. */
    readonly fleetStartSpreadMinutes: number;
    readonly baseImageCheck: string;
    readonly janitor: string;
  };
  readonly definitions: readonly ImageDefinition[];
  readonly polling: {
    readonly minIntervalSeconds: number;
    readonly maxIntervalSeconds: number;
    readonly defaultExpectedMinutes: number;
  };
  /** Extra minutes after a definition's buildTimeoutInMinutes before the orchestration cancels the run. */
  readonly deadlineMarginMinutes: number;
  /** How long after the Image Contributor grant an authorization refusal counts as "not yet effective". */
  readonly grantPropagationTimeoutMinutes: number;
  /** Managed images (and gallery versions) kept per definition, the current one included. */
  readonly imageRetentionCount: number;
  /**
   * Resource groups (besides the destination) where the deployment gave the app the rights a gallery needs:
   * assigning Image Contributor to the builder identity (gallery targets) and reading versions (gallery
   * sources).
   */
  readonly galleryResourceGroups: readonly string[];
  /** Container-instance subnet for isolated builds (a definition's containerInstanceSubnetId overrides). */
  readonly containerInstanceSubnetId: string | undefined;
  /** A download mirror the customizers use instead of the internet (then no outbound path is required). */
  readonly downloadMirrorUrl: string | undefined;
  readonly notificationWebhookUrl: string | undefined;
  readonly azure: {
    /** Client id of a user-assigned managed identity for the app itself (optional). */
    readonly managedIdentityClientId: string | undefined;
    readonly armEndpoint: string;
    /** PEM file of an extra CA to trust (local stand-ins only). */
    readonly caCertPath: string | undefined;
  };
}

/** Every setting the app reads, with its default (undefined = required or optional without default). */
export const SETTINGS = {
  AZURE_SUBSCRIPTION_ID: undefined,
  AZURE_LOCATION: undefined,
  IMAGE_BUILDER_RESOURCE_GROUP: undefined,
  IMAGE_DESTINATION_RESOURCE_GROUP: undefined,
  STAGING_RESOURCE_GROUP_PREFIX: 'rg-jumpbox-staging-',
  BUILD_SUBNET_ID: undefined,
  BUILDER_IDENTITY_ID: undefined,
  BUILDER_IDENTITY_CREATE: 'false',
  NETWORK_JOINER_ROLE_ID: undefined,
  IMAGE_CONTRIBUTOR_ROLE_ID: undefined,
  ARCHIVE_STORAGE_ACCOUNT_URL: undefined,
  ARCHIVE_CONTAINER: 'aib-logs',
  RECORDS_TABLE_ENDPOINT: undefined,
  RECORDS_TABLE_NAME: 'builds',
  MONTHLY_REBUILD_SCHEDULE: '0 0 3 1 * *',
  FLEET_START_SPREAD_MINUTES: '10',
  BASE_IMAGE_CHECK_SCHEDULE: '0 0 */6 * * *',
  JANITOR_SCHEDULE: '0 */15 * * * *',
  IMAGE_DEFINITIONS: undefined,
  POLL_MIN_INTERVAL_SECONDS: '30',
  POLL_MAX_INTERVAL_SECONDS: '300',
  EXPECTED_BUILD_MINUTES: '35',
  DEADLINE_MARGIN_MINUTES: '15',
  GRANT_PROPAGATION_TIMEOUT_MINUTES: '30',
  IMAGE_RETENTION_COUNT: '3',
  GALLERY_RESOURCE_GROUPS: undefined,
  CONTAINER_INSTANCE_SUBNET_ID: undefined,
  DOWNLOAD_MIRROR_URL: undefined,
  NOTIFICATION_WEBHOOK_URL: undefined,
  AZURE_CLIENT_ID: undefined,
  ARM_ENDPOINT: 'https://management.azure.com',
  ARM_CA_CERT_PATH: undefined,
} as const satisfies Record<string, string | undefined>;

export type SettingName = keyof typeof SETTINGS;

const NCRONTAB_FIELD = /^[\d*,/-]+$|^[A-Za-z]{3}(-[A-Za-z]{3})?$/;

function ncrontab(setting: string) {
  return z.string().refine(
    (v) => {
      const fields = v.trim().split(/\s+/);
      return fields.length === 6 && fields.every((f) => NCRONTAB_FIELD.test(f));
    },
    {
      message: `must be a six-field NCRONTAB expression "{second} {minute} {hour} {day} {month} {day-of-week}", e.g. ${SETTINGS[setting as SettingName] ?? '0 0 3 1 * *'}`,
    },
  );
}

function intSetting(min: number, max: number) {
  return z
    .string()
    .regex(/^\d+$/, `must be a whole number from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
}

function httpsUrl(what: string, allowHttpLoopback = false) {
  return z.string().refine(
    (v) => {
      try {
        const u = new URL(v);
        return (
          u.protocol === 'https:' ||
          (allowHttpLoopback && u.protocol === 'http:' && u.hostname === '127.0.0.1')
        );
      } catch {
        return false;
      }
    },
    { message: `must be an https:// URL of ${what}` },
  );
}

function resourceGroupName() {
  return z.string().refine(isResourceGroupName, {
    message:
      'must be a resource group name: 1-90 letters, digits, underscores, hyphens, periods or parentheses',
  });
}

const envSchema = z.object({
  AZURE_SUBSCRIPTION_ID: z.string().refine(isGuid, { message: 'must be a subscription GUID' }),
  AZURE_LOCATION: z
    .string()
    .regex(/^[a-z0-9]+$/, 'must be an Azure region name in lower case without spaces, e.g. eastus2'),
  IMAGE_BUILDER_RESOURCE_GROUP: resourceGroupName(),
  IMAGE_DESTINATION_RESOURCE_GROUP: resourceGroupName(),
  STAGING_RESOURCE_GROUP_PREFIX: z
    .string()
    .regex(/^[-\w.()]{1,56}$/, 'must be a resource group name prefix of at most 56 characters'),
  BUILD_SUBNET_ID: z.string(),
  BUILDER_IDENTITY_ID: z.string(),
  BUILDER_IDENTITY_CREATE: z.enum(['true', 'false'], { message: 'must be true or false' }),
  NETWORK_JOINER_ROLE_ID: z.string(),
  IMAGE_CONTRIBUTOR_ROLE_ID: z.string(),
  ARCHIVE_STORAGE_ACCOUNT_URL: httpsUrl('the blob endpoint of the archive storage account'),
  ARCHIVE_CONTAINER: z
    .string()
    .regex(
      /^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/,
      'must be a container name: 3-63 lowercase letters, digits, hyphens',
    ),
  RECORDS_TABLE_ENDPOINT: httpsUrl('the table endpoint of the records storage account').optional(),
  RECORDS_TABLE_NAME: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9]{2,62}$/, 'must be a table name: 3-63 letters and digits'),
  MONTHLY_REBUILD_SCHEDULE: ncrontab('MONTHLY_REBUILD_SCHEDULE'),
  FLEET_START_SPREAD_MINUTES: intSetting(0, 240),
  BASE_IMAGE_CHECK_SCHEDULE: ncrontab('BASE_IMAGE_CHECK_SCHEDULE'),
  JANITOR_SCHEDULE: ncrontab('JANITOR_SCHEDULE'),
  IMAGE_DEFINITIONS: z.string().optional(),
  POLL_MIN_INTERVAL_SECONDS: intSetting(5, 3600),
  POLL_MAX_INTERVAL_SECONDS: intSetting(5, 3600),
  EXPECTED_BUILD_MINUTES: intSetting(1, 960),
  DEADLINE_MARGIN_MINUTES: intSetting(0, 240),
  GRANT_PROPAGATION_TIMEOUT_MINUTES: intSetting(1, 240),
  IMAGE_RETENTION_COUNT: intSetting(1, 100),
  GALLERY_RESOURCE_GROUPS: z
    .string()
    .refine((v) => v.split(',').every((x) => isResourceGroupName(x.trim())), {
      message: 'must be a comma-separated list of resource group names',
    })
    .optional(),
  CONTAINER_INSTANCE_SUBNET_ID: z.string().optional(),
  DOWNLOAD_MIRROR_URL: httpsUrl('the download mirror').optional(),
  NOTIFICATION_WEBHOOK_URL: httpsUrl('the webhook to notify').optional(),
  AZURE_CLIENT_ID: z
    .string()
    .refine(isGuid, { message: 'must be the client id (GUID) of a managed identity' })
    .optional(),
  ARM_ENDPOINT: httpsUrl('Azure Resource Manager'),
  ARM_CA_CERT_PATH: z.string().min(1).optional(),
});

type Env = Record<string, string | undefined>;

/** Derives `https://acct.table.core.windows.net` from `https://acct.blob.core.windows.net`. */
function deriveTableEndpoint(blobUrl: string): string | undefined {
  const u = new URL(blobUrl);
  if (!/\.blob\./.test(u.hostname)) return undefined;
  return `${u.protocol}//${u.hostname.replace('.blob.', '.table.')}`;
}

/** Parses and validates settings; throws ConfigError listing every problem. */
export function parseConfig(env: Env): AppConfig {
  const raw: Record<string, string | undefined> = {};
  for (const [name, def] of Object.entries(SETTINGS)) {
    const value = env[name];
    raw[name] = value === undefined || value.trim() === '' ? def : value.trim();
  }
  const problems: ConfigProblem[] = [];
  const parsed = envSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const setting = String(issue.path[0] ?? '(settings)');
      const message = raw[setting] === undefined ? 'is required but not set' : issue.message;
      problems.push({ setting, message });
    }
  }
  const ok = (name: string) => !problems.some((p) => p.setting === name);

  const tryParse = <T>(setting: string, fn: (v: string) => T): T | undefined => {
    const v = raw[setting];
    if (v === undefined || !ok(setting)) return undefined;
    try {
      return fn(v);
    } catch (e) {
      problems.push({ setting, message: e instanceof ResourceIdError ? e.message : String(e) });
      return undefined;
    }
  };

  const buildSubnet = tryParse('BUILD_SUBNET_ID', parseSubnetId);
  const identity = tryParse('BUILDER_IDENTITY_ID', parseUserAssignedIdentityId);
  const subscriptionId = ok('AZURE_SUBSCRIPTION_ID') ? (raw.AZURE_SUBSCRIPTION_ID as string) : undefined;
  const roleSub = subscriptionId ?? '00000000-0000-0000-0000-000000000000';
  const networkJoiner = tryParse('NETWORK_JOINER_ROLE_ID', (v) => normalizeRoleDefinitionId(v, roleSub));
  const imageContributor = tryParse('IMAGE_CONTRIBUTOR_ROLE_ID', (v) =>
    normalizeRoleDefinitionId(v, roleSub),
  );

  // Consistency between settings.
  if (
    subscriptionId &&
    buildSubnet &&
    buildSubnet.subscriptionId.toLowerCase() !== subscriptionId.toLowerCase()
  ) {
    problems.push({
      setting: 'BUILD_SUBNET_ID',
      message: `is in subscription ${buildSubnet.subscriptionId} but AZURE_SUBSCRIPTION_ID is ${subscriptionId}; Image Builder needs the subnet in the same subscription`,
    });
  }
  if (subscriptionId && identity && identity.subscriptionId.toLowerCase() !== subscriptionId.toLowerCase()) {
    problems.push({
      setting: 'BUILDER_IDENTITY_ID',
      message: `is in subscription ${identity.subscriptionId} but AZURE_SUBSCRIPTION_ID is ${subscriptionId}`,
    });
  }
  if (networkJoiner && imageContributor && networkJoiner === imageContributor) {
    problems.push({
      setting: 'IMAGE_CONTRIBUTOR_ROLE_ID',
      message:
        'is the same role as NETWORK_JOINER_ROLE_ID; use the two distinct least-privilege custom roles',
    });
  }
  if (
    ok('POLL_MIN_INTERVAL_SECONDS') &&
    ok('POLL_MAX_INTERVAL_SECONDS') &&
    parsed.success &&
    parsed.data.POLL_MIN_INTERVAL_SECONDS > parsed.data.POLL_MAX_INTERVAL_SECONDS
  ) {
    problems.push({
      setting: 'POLL_MIN_INTERVAL_SECONDS',
      message: `(${parsed.data.POLL_MIN_INTERVAL_SECONDS}) must not exceed POLL_MAX_INTERVAL_SECONDS (${parsed.data.POLL_MAX_INTERVAL_SECONDS})`,
    });
  }
  if (
    ok('IMAGE_BUILDER_RESOURCE_GROUP') &&
    ok('IMAGE_DESTINATION_RESOURCE_GROUP') &&
    raw.IMAGE_BUILDER_RESOURCE_GROUP?.toLowerCase() === raw.IMAGE_DESTINATION_RESOURCE_GROUP?.toLowerCase()
  ) {
    problems.push({
      setting: 'IMAGE_DESTINATION_RESOURCE_GROUP',
      message:
        'must differ from IMAGE_BUILDER_RESOURCE_GROUP so that the Image Contributor grant covers only the destination',
    });
  }
  let tableEndpoint = raw.RECORDS_TABLE_ENDPOINT;
  if (tableEndpoint === undefined && ok('ARCHIVE_STORAGE_ACCOUNT_URL') && raw.ARCHIVE_STORAGE_ACCOUNT_URL) {
    tableEndpoint = deriveTableEndpoint(raw.ARCHIVE_STORAGE_ACCOUNT_URL);
    if (tableEndpoint === undefined) {
      problems.push({
        setting: 'RECORDS_TABLE_ENDPOINT',
        message:
          'is required when ARCHIVE_STORAGE_ACCOUNT_URL is not a *.blob.* endpoint: set the table endpoint, e.g. https://account.table.core.windows.net',
      });
    }
  }

  const containerInstanceSubnet = tryParse('CONTAINER_INSTANCE_SUBNET_ID', parseSubnetId);
  if (
    containerInstanceSubnet &&
    buildSubnet &&
    vnetOf(containerInstanceSubnet.id) !== vnetOf(buildSubnet.id)
  ) {
    problems.push({
      setting: 'CONTAINER_INSTANCE_SUBNET_ID',
      message: `must be a subnet of the build subnet's virtual network (${buildSubnet.virtualNetwork}): isolated builds need both subnets in one virtual network`,
    });
  }
  if (
    containerInstanceSubnet &&
    buildSubnet &&
    containerInstanceSubnet.id.toLowerCase() === buildSubnet.id.toLowerCase()
  ) {
    problems.push({
      setting: 'CONTAINER_INSTANCE_SUBNET_ID',
      message:
        'must be a separate subnet from BUILD_SUBNET_ID (delegated to Microsoft.ContainerInstance/containerGroups)',
    });
  }
  const coveredGroups = new Set(
    [
      raw.IMAGE_DESTINATION_RESOURCE_GROUP ?? '',
      ...(ok('GALLERY_RESOURCE_GROUPS') ? (raw.GALLERY_RESOURCE_GROUPS ?? '').split(',') : []),
    ]
      .map((x) => x.trim().toLowerCase())
      .filter((x) => x !== ''),
  );

  let definitions: ImageDefinition[] | undefined;
  const defsRaw = raw.IMAGE_DEFINITIONS ?? JSON.stringify([{ name: DEFAULT_DEFINITION_NAME }]);
  let defsJson: unknown;
  try {
    defsJson = JSON.parse(defsRaw);
  } catch (e) {
    problems.push({
      setting: 'IMAGE_DEFINITIONS',
      message: `must be a JSON array of image definitions (${(e as Error).message})`,
    });
  }
  if (defsJson !== undefined) {
    const r = imageDefinitionsSchema.safeParse(defsJson);
    if (r.success) {
      definitions = r.data;
      for (const [i, d] of r.data.entries()) {
        if (
          d.containerInstanceSubnetId !== undefined &&
          d.buildSubnetId === undefined &&
          buildSubnet &&
          vnetOf(d.containerInstanceSubnetId) !== vnetOf(buildSubnet.id)
        ) {
          problems.push({
            setting: 'IMAGE_DEFINITIONS',
            message: `[${i}].containerInstanceSubnetId must be on the virtual network of BUILD_SUBNET_ID (${buildSubnet.virtualNetwork}), or set [${i}].buildSubnetId`,
          });
        }
        if (isGallerySource(d.source) && subscriptionId) {
          const gallerySub = /^\/subscriptions\/([^/]+)\//i.exec(d.source.galleryImageId)?.[1];
          if (gallerySub && gallerySub.toLowerCase() !== subscriptionId.toLowerCase()) {
            problems.push({
              setting: 'IMAGE_DEFINITIONS',
              message: `[${i}].source.galleryImageId is in subscription ${gallerySub}; the app resolves gallery versions in AZURE_SUBSCRIPTION_ID (${subscriptionId}) only — use a gallery there (replicate the image if needed)`,
            });
          }
        }
        // Gallery targets and sources outside the destination group need rights the deployment grants
        // per resource group (infra parameter galleryResourceGroups): refuse what it does not cover.
        const galleryScopes: [string, string][] = [];
        if (d.distribute.gallery)
          galleryScopes.push([
            'distribute.gallery.imageDefinitionId',
            d.distribute.gallery.imageDefinitionId,
          ]);
        if (isGallerySource(d.source)) galleryScopes.push(['source.galleryImageId', d.source.galleryImageId]);
        for (const [field, id] of galleryScopes) {
          const group = /\/resourceGroups\/([^/]+)\//i.exec(id)?.[1];
          if (group && !coveredGroups.has(group.toLowerCase())) {
            problems.push({
              setting: 'IMAGE_DEFINITIONS',
              message: `[${i}].${field} is in resource group ${group}, where the app has no rights: add ${group} to GALLERY_RESOURCE_GROUPS and to the deployment's galleryResourceGroups parameter (it grants the app the delegated Image Contributor assignment and read access there), then redeploy`,
            });
          }
        }
        if (d.buildSubnetId !== undefined) {
          try {
            const sn = parseSubnetId(d.buildSubnetId);
            if (subscriptionId && sn.subscriptionId.toLowerCase() !== subscriptionId.toLowerCase()) {
              problems.push({
                setting: 'IMAGE_DEFINITIONS',
                message: `[${i}].buildSubnetId is in another subscription than AZURE_SUBSCRIPTION_ID`,
              });
            }
          } catch (e) {
            problems.push({
              setting: 'IMAGE_DEFINITIONS',
              message: `[${i}].buildSubnetId ${(e as Error).message}`,
            });
          }
        }
      }
    } else {
      for (const line of formatDefinitionProblems(r.error.issues, defsJson)) {
        problems.push({ setting: 'IMAGE_DEFINITIONS', message: line });
      }
    }
  }

  if (
    problems.length > 0 ||
    !parsed.success ||
    !buildSubnet ||
    !identity ||
    !networkJoiner ||
    !imageContributor
  ) {
    throw new ConfigError(problems);
  }
  const d = parsed.data;
  const config: AppConfig = {
    subscriptionId: d.AZURE_SUBSCRIPTION_ID,
    location: d.AZURE_LOCATION,
    resourceGroups: {
      imageBuilder: d.IMAGE_BUILDER_RESOURCE_GROUP,
      destination: d.IMAGE_DESTINATION_RESOURCE_GROUP,
      stagingPrefix: d.STAGING_RESOURCE_GROUP_PREFIX,
    },
    buildSubnet,
    builderIdentity: { ...identity, createIfMissing: d.BUILDER_IDENTITY_CREATE === 'true' },
    roles: { networkJoiner, imageContributor },
    archive: { accountUrl: d.ARCHIVE_STORAGE_ACCOUNT_URL.replace(/\/$/, ''), container: d.ARCHIVE_CONTAINER },
    records: { tableEndpoint: tableEndpoint!.replace(/\/$/, ''), tableName: d.RECORDS_TABLE_NAME },
    schedules: {
      monthlyRebuild: d.MONTHLY_REBUILD_SCHEDULE,
      fleetStartSpreadMinutes: d.FLEET_START_SPREAD_MINUTES,
      baseImageCheck: d.BASE_IMAGE_CHECK_SCHEDULE,
      janitor: d.JANITOR_SCHEDULE,
    },
    definitions: definitions!,
    polling: {
      minIntervalSeconds: d.POLL_MIN_INTERVAL_SECONDS,
      maxIntervalSeconds: d.POLL_MAX_INTERVAL_SECONDS,
      defaultExpectedMinutes: d.EXPECTED_BUILD_MINUTES,
    },
    deadlineMarginMinutes: d.DEADLINE_MARGIN_MINUTES,
    grantPropagationTimeoutMinutes: d.GRANT_PROPAGATION_TIMEOUT_MINUTES,
    imageRetentionCount: d.IMAGE_RETENTION_COUNT,
    galleryResourceGroups: (d.GALLERY_RESOURCE_GROUPS ?? '')
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x !== ''),
    containerInstanceSubnetId: containerInstanceSubnet?.id,
    downloadMirrorUrl: d.DOWNLOAD_MIRROR_URL?.replace(/\/$/, ''),
    notificationWebhookUrl: d.NOTIFICATION_WEBHOOK_URL,
    azure: {
      managedIdentityClientId: d.AZURE_CLIENT_ID,
      armEndpoint: d.ARM_ENDPOINT.replace(/\/$/, ''),
      caCertPath: d.ARM_CA_CERT_PATH,
    },
  };
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

let cached: AppConfig | undefined;

/** The process-wide configuration, parsed from process.env on first use. */
export function getConfig(): AppConfig {
  cached ??= parseConfig(process.env);
  return cached;
}

/** For hosts that set up the environment after module load (the local host, tests). */
export function resetConfigForTests(): void {
  cached = undefined;
}

/** Staging resource group of a definition. */
export function stagingResourceGroupOf(config: AppConfig, definition: string): string {
  return `${config.resourceGroups.stagingPrefix}${definition}`;
}
