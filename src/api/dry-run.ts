/**
 * The dry run of POST /api/builds: preflight (read-only), the template the build would deploy (its
 * hash-based name, whether an existing template is reused or replaced), and the egress allow-list.
 * Only GET/list calls reach Azure; nothing is created, changed or deleted.
 */

import { runPreflight } from '../activities/preflight/run-preflight.js';
import { resolveSourceVersion } from '../activities/source-version.js';
import type { AzureClients } from '../azure/clients.js';
import { classifyError } from '../azure/errors.js';
import type { AppConfig } from '../config.js';
import { gateOf, type ImageDefinition, manifestOf } from '../image/definition.js';
import { egressAllowList } from '../image/egress.js';
import { buildTemplateBody, TAG, templateNameFor } from '../image/template-body.js';
import { templateInputFromConfig } from '../image/template-input.js';
import type { DryRunPlan } from './deps.js';

type TemplatePlan = NonNullable<DryRunPlan['template']>;

/** Reuse when a template of that name exists, replace when another template of the definition exists. */
export function templateAction(
  name: string,
  existing: readonly { readonly name: string; readonly definition: string | undefined }[],
  definition: string,
): Pick<TemplatePlan, 'action' | 'replaces'> {
  if (existing.some((t) => t.name === name)) return { action: 'reuse' };
  const old = existing.find((t) => t.definition === definition);
  return old ? { action: 'replace', replaces: old.name } : { action: 'create' };
}

async function planTemplate(
  config: AppConfig,
  clients: AzureClients,
  definition: ImageDefinition,
): Promise<TemplatePlan | null> {
  let version: string;
  try {
    // The same resolution the build uses (marketplace or gallery, "latest" or pinned): read-only.
    ({ version } = await resolveSourceVersion({ config, clients }, { definition: definition.name }));
  } catch (e) {
    if (classifyError(e).kind === 'permanent') return null; // no such source version: preflight-like answer, the plan has no template
    throw e;
  }
  const body = buildTemplateBody(templateInputFromConfig(config, definition, version));
  const name = templateNameFor(body);
  const existing: { name: string; definition: string | undefined }[] = [];
  for await (const t of clients.imageBuilder.virtualMachineImageTemplates.listByResourceGroup(
    config.resourceGroups.imageBuilder,
  )) {
    if (t.name) existing.push({ name: t.name, definition: t.tags?.[TAG.definition] });
  }
  return { name, sourceImageVersion: version, ...templateAction(name, existing, definition.name) };
}

export function dryRunPlanner(
  config: AppConfig,
  clients: AzureClients,
): (definition: ImageDefinition) => Promise<DryRunPlan> {
  return async (definition) => {
    const [report, template] = await Promise.all([
      runPreflight({ config, clients }, definition.name),
      planTemplate(config, clients, definition),
    ]);
    return {
      preflight: {
        ok: report.ok,
        checks: report.checks.map((c) => ({ name: c.check, ok: c.ok, message: c.message })),
      },
      template,
      egress: egressAllowList(manifestOf(definition), {
        mode:
          definition.containerInstanceSubnetId || config.containerInstanceSubnetId ? 'isolated' : 'proxy-vm',
        scan: gateOf(definition).enabled,
      }).map((r) => ({
        fqdn: r.fqdn,
        port: r.port,
        why: r.why,
      })),
    };
  };
}
