/**
 * Image definition schema (placeholder owned by the image issue; it will grow).
 * Exported names used elsewhere: imageDefinitionSchema, imageDefinitionsSchema, ImageDefinition,
 * DEFAULT_DEFINITION_NAME.
 */
import { z } from 'zod';

export const DEFAULT_DEFINITION_NAME = 'aks-jumpbox';

const definitionName = z
  .string()
  .regex(
    /^[a-z][a-z0-9-]{1,30}[a-z0-9]$/,
    'use 3-32 lowercase letters, digits and hyphens, starting with a letter',
  );

export const imageDefinitionSchema = z
  .object({
    name: definitionName,
    source: z
      .object({
        publisher: z.string().default('Canonical'),
        offer: z.string().default('ubuntu-24_04-lts'),
        sku: z.string().default('server'),
        version: z.string().default('latest'),
      })
      .strict()
      .default({ publisher: 'Canonical', offer: 'ubuntu-24_04-lts', sku: 'server', version: 'latest' }),
    vmSize: z.string().default('Standard_D2ds_v5'),
    osDiskSizeGB: z.number().int().min(30).max(4096).default(64),
    buildTimeoutInMinutes: z.number().int().min(6).max(960).default(90),
    buildSubnetId: z.string().optional(),
    tags: z.record(z.string(), z.string()).default({}),
  })
  .strict();

export type ImageDefinition = z.infer<typeof imageDefinitionSchema>;

export const imageDefinitionsSchema = z
  .array(imageDefinitionSchema)
  .min(1, 'configure at least one image definition')
  .superRefine((defs, ctx) => {
    const seen = new Set<string>();
    defs.forEach((d, i) => {
      if (seen.has(d.name)) {
        ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate definition name "${d.name}"` });
      }
      seen.add(d.name);
    });
  });
