/**
 * The HTTP API's request and response schemas. The same zod objects validate requests and generate the
 * OpenAPI description (src/api/openapi.ts), so the document cannot drift from the code.
 */
import { z } from 'zod';
import { BUILD_STATUSES } from '../records/build-records.js';

/** Named schemas: each becomes `#/components/schemas/<id>` in the OpenAPI document. */
export const apiSchemas = z.registry<{ id: string }>();

/** Largest accepted request body, in bytes. */
export const MAX_BODY_BYTES = 16 * 1024;

const definitionName = z
  .string()
  .min(1)
  .max(32)
  .regex(/^[a-z][a-z0-9-]*[a-z0-9]$/, 'must be a definition name: lowercase letters, digits and hyphens')
  .describe('Name of a configured image definition (GET /api/definitions lists them).');

export const startBuildRequestSchema = z
  .object({
    definition: definitionName,
    reason: z
      .string()
      .max(500, 'must be at most 500 characters')
      .optional()
      .describe('Free text recorded with the build, e.g. the pipeline run URL.'),
    force: z
      .boolean()
      .optional()
      .describe('Build even when the template is unchanged and the last build used the same source version.'),
    dryRun: z.boolean().optional().describe('Run preflight and plan the template without creating anything.'),
  })
  .strict()
  .register(apiSchemas, { id: 'StartBuildRequest' });
export type StartBuildRequestBody = z.infer<typeof startBuildRequestSchema>;

export const buildStatusSchema = z
  .enum(BUILD_STATUSES as [string, ...string[]])
  .register(apiSchemas, { id: 'BuildStatus' });

const topSchema = z
  .string()
  .regex(/^\d+$/, 'must be a whole number from 1 to 100')
  .transform(Number)
  .pipe(z.number().int().min(1, 'must be at least 1').max(100, 'must be at most 100'));

export const listBuildsQuerySchema = z
  .object({
    definition: definitionName.optional(),
    status: buildStatusSchema.optional(),
    top: topSchema.optional().describe('At most this many records (1-100, default 20).'),
  })
  .strict();
export type ListBuildsQuery = z.infer<typeof listBuildsQuerySchema>;

/** Any id the record store can hold (ids issued here look like aks-jumpbox.20260101T030000Z.3f9a0c1e). */
export const buildIdSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9._-]{1,200}$/,
    'must be a build id as returned by POST /api/builds, e.g. aks-jumpbox.20260101T030000Z.3f9a0c1e',
  );

export const linksSchema = z
  .object({
    status: z.string().describe('GET this URL for the build status.'),
    cancel: z.string().describe('POST to this URL to cancel the build.'),
  })
  .register(apiSchemas, { id: 'BuildLinks' });

export const startBuildAcceptedSchema = z
  .object({
    buildId: z.string(),
    definition: z.string(),
    instanceId: z.string().describe('Durable orchestration instance (one per definition).'),
    statusUrl: z.string(),
    links: linksSchema,
  })
  .register(apiSchemas, { id: 'BuildAccepted' });

const errorSchema = z.object({ code: z.string(), message: z.string() });

export const vulnerabilityCountsSchema = z
  .object({
    critical: z.number().int(),
    high: z.number().int(),
    medium: z.number().int(),
    low: z.number().int(),
    unknown: z.number().int(),
    blocking: z
      .array(z.string())
      .describe(
        'Findings that failed the vulnerability gate: id, severity, package, installed and fixed version.',
      ),
    report: z.string().describe('Archived vulnerability report (Trivy JSON; blob URL, no SAS).'),
  })
  .describe('Vulnerability findings in the image by severity (docs/provenance.md).')
  .register(apiSchemas, { id: 'VulnerabilityCounts' });

/** Lower-case hex SHA-256 of an archived blob's bytes. */
const sha256Schema = z.string().regex(/^[0-9a-f]{64}$/);

export const buildRecordSchema = z
  .object({
    buildId: z.string(),
    definition: z.string(),
    trigger: z.string(),
    reason: z.string(),
    requestedBy: z.string(),
    requestedAt: z.string(),
    status: buildStatusSchema,
    phase: z.string().optional(),
    instanceId: z.string().optional(),
    templateName: z.string().optional(),
    sourceImageVersion: z.string().optional(),
    runState: z.string().optional(),
    runSubState: z.string().optional(),
    imageId: z.string().optional(),
    logUrls: z.array(z.string()),
    error: errorSchema.optional(),
    logArchivalError: errorSchema
      .optional()
      .describe(
        "Why the run's logs could not be archived (code LogArchivalFailed); they stay in Image Builder's staging account with the template.",
      ),
    phaseTimestamps: z.record(z.string(), z.string()),
    startedAt: z.string().optional(),
    finishedAt: z.string().optional(),
    durationSeconds: z.number().optional(),
    grantSeconds: z
      .number()
      .optional()
      .describe('Seconds the just-in-time Image Contributor grant existed (grant to removal).'),
    grantPropagationSeconds: z
      .number()
      .optional()
      .describe('Seconds from the grant until Image Builder accepted the run (role assignment propagation).'),
    grantRefusals: z
      .number()
      .optional()
      .describe('Authorization refusals while the grant was not yet effective.'),
    sbom: z.string().optional().describe('Archived CycloneDX SBOM of the image (blob URL, no SAS).'),
    sbomSha256: sha256Schema
      .optional()
      .describe('SHA-256 of the archived SBOM as the build wrote it (absent on older records).'),
    provenance: z.string().optional().describe('Archived provenance record (blob URL, no SAS).'),
    provenanceSha256: sha256Schema
      .optional()
      .describe(
        'SHA-256 of provenance.json as the build wrote it; the image tag jumpbox-provenance-sha256 holds the same value. `provenance BUILD_ID` checks the blob against it (docs/provenance.md). Absent on older records.',
      ),
    vulnerabilities: vulnerabilityCountsSchema.optional(),
    vulnerabilitiesSha256: sha256Schema
      .optional()
      .describe(
        'SHA-256 of the archived vulnerability report (vulnerabilities.report) as the build wrote it (absent on older records).',
      ),
  })
  .register(apiSchemas, { id: 'BuildRecord' });

export const buildListSchema = z
  .object({ builds: z.array(buildRecordSchema), count: z.number().int() })
  .register(apiSchemas, { id: 'BuildList' });

export const runtimeSchema = z
  .object({
    instanceId: z.string(),
    runtimeStatus: z.string(),
    customStatus: z.unknown().optional(),
    output: z.unknown().optional(),
    createdTime: z.string().optional(),
    lastUpdatedTime: z.string().optional(),
  })
  .register(apiSchemas, { id: 'BuildRuntime' });

export const buildDetailSchema = z
  .object({
    buildId: z.string(),
    definition: z.string(),
    status: buildStatusSchema.describe('Queued/Running until the build ends, then its result.'),
    terminal: z.boolean(),
    imageId: z.string().optional(),
    error: errorSchema.optional(),
    record: buildRecordSchema.nullable().describe('The stored record (null until the build has written it).'),
    runtime: runtimeSchema
      .nullable()
      .describe('Live orchestration status while this build is the instance current execution.'),
    links: linksSchema,
  })
  .register(apiSchemas, { id: 'BuildDetail' });

export const cancelAcceptedSchema = z
  .object({ buildId: z.string(), status: z.literal('Canceling'), links: linksSchema })
  .register(apiSchemas, { id: 'CancelAccepted' });

export const definitionSummarySchema = z
  .object({
    name: z.string(),
    source: z.record(z.string(), z.unknown()),
    running: z.object({ buildId: z.string().optional(), runtimeStatus: z.string() }).nullable(),
    lastBuild: buildRecordSchema.nullable(),
    lastSuccessfulBuild: buildRecordSchema.nullable(),
    currentImageId: z
      .string()
      .nullable()
      .describe('The current image: the image of the newest successful build (tagged jumpbox-current).'),
    baseImage: z
      .object({
        newestVersion: z.string().nullable(),
        error: z.string().optional(),
      })
      .describe('Newest marketplace version of the source image (numeric sort).'),
  })
  .register(apiSchemas, { id: 'DefinitionSummary' });

export const definitionListSchema = z
  .object({ definitions: z.array(definitionSummarySchema) })
  .register(apiSchemas, { id: 'DefinitionList' });

export const dryRunResultSchema = z
  .object({
    dryRun: z.literal(true),
    definition: z.string(),
    preflight: z.object({
      ok: z.boolean(),
      checks: z.array(z.object({ name: z.string(), ok: z.boolean(), message: z.string().optional() })),
    }),
    template: z
      .object({
        name: z.string(),
        action: z.enum(['reuse', 'replace', 'create']),
        replaces: z.string().optional(),
        sourceImageVersion: z.string().optional(),
      })
      .nullable(),
    egress: z.array(z.object({ fqdn: z.string(), port: z.number().int(), why: z.string() })),
  })
  .register(apiSchemas, { id: 'DryRunResult' });

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string().optional(),
    errors: z
      .array(z.object({ field: z.string(), reason: z.string() }))
      .optional()
      .describe('One entry per invalid field.'),
    runningBuildId: z.string().optional(),
    statusUrl: z.string().optional(),
  })
  .register(apiSchemas, { id: 'Problem' });
