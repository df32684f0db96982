/**
 * The image template of a build. Templates are immutable, so the name carries a hash of the canonical
 * body: an unchanged definition (same body) reuses its Succeeded template without any PUT; a changed one
 * archives the superseded template's logs, deletes it, then creates the new one. One template per
 * definition exists at a time (they share the definition's staging resource group).
 *
 * `planTemplate` is read-only (the HTTP dry run shows it); `deployTemplate` acts on the plan.
 */
import type { ImageTemplate } from '@azure/arm-imagebuilder';
import { permanent, statusOf } from '../../azure/errors.js';
import { parseSubnetId, resourceGroupId } from '../../azure/resource-id.js';
import { stagingResourceGroupOf } from '../../config.js';
import { buildTemplateBody, TAG, templateNameFor } from '../../image/template-body.js';
import { type ActivityDeps, definitionOf } from '../deps.js';
import { archiveRunLogs } from '../logs/archive-logs.js';

export interface TemplateInput {
  readonly definition: string;
  readonly buildId: string;
  /** Exact source image version (resolved). */
  readonly sourceVersion: string;
  /** Resource id of the builder identity. */
  readonly builderIdentityId: string;
}

export type TemplateAction = 'reuse' | 'create' | 'replace';

export interface TemplatePlan {
  readonly templateName: string;
  readonly action: TemplateAction;
  /** Templates of the same definition that the deployment deletes (after archiving their logs). */
  readonly superseded: readonly string[];
  readonly stagingResourceGroupId: string;
  /** Why the action was chosen. */
  readonly reason: string;
}

export interface TemplateDeployment extends TemplatePlan {
  /** Archive URLs of the superseded templates' logs. */
  readonly archivedLogs: readonly string[];
  readonly deleted: readonly string[];
}

type Deps = Pick<ActivityDeps, 'config' | 'clients'>;

export function templateBodyFor(deps: Deps, input: TemplateInput): ImageTemplate {
  const { config } = deps;
  const def = definitionOf(config, input.definition);
  const subnetId = def.buildSubnetId ?? config.buildSubnet.id;
  parseSubnetId(subnetId);
  return buildTemplateBody({
    definition: def,
    sourceVersion: input.sourceVersion,
    location: config.location,
    builderIdentityId: input.builderIdentityId,
    subnetId,
    stagingResourceGroupId: resourceGroupId(config.subscriptionId, stagingResourceGroupOf(config, def.name)),
    destinationResourceGroup: config.resourceGroups.destination,
    subscriptionId: config.subscriptionId,
  });
}

async function templatesOfDefinition(deps: Deps, definition: string): Promise<ImageTemplate[]> {
  const out: ImageTemplate[] = [];
  for await (const t of deps.clients.imageBuilder.virtualMachineImageTemplates.listByResourceGroup(
    deps.config.resourceGroups.imageBuilder,
  )) {
    if (t.tags?.[TAG.definition] === definition) out.push(t);
  }
  return out;
}

/** Read-only: which template the build would use and what would change. */
export async function planTemplate(deps: Deps, input: TemplateInput): Promise<TemplatePlan> {
  const body = templateBodyFor(deps, input);
  const templateName = templateNameFor(body);
  const stagingResourceGroupId = body.stagingResourceGroup!;
  const existing = await templatesOfDefinition(deps, input.definition);
  const same = existing.find((t) => t.name?.toLowerCase() === templateName.toLowerCase());
  const superseded = existing.filter((t) => t !== same).map((t) => t.name!);
  if (same && same.provisioningState === 'Succeeded') {
    return {
      templateName,
      action: 'reuse',
      superseded,
      stagingResourceGroupId,
      reason: 'unchanged definition: the template exists and is Succeeded',
    };
  }
  if (same) {
    return {
      templateName,
      action: 'replace',
      superseded: [...superseded, same.name!],
      stagingResourceGroupId,
      reason: `the template exists in provisioning state ${same.provisioningState ?? 'unknown'}: recreate it`,
    };
  }
  return {
    templateName,
    action: 'create',
    superseded,
    stagingResourceGroupId,
    reason:
      superseded.length > 0
        ? `definition changed: supersedes ${superseded.join(', ')}`
        : 'first template of the definition',
  };
}

/**
 * Polls a started LRO until done with the activity's own schedule (0 s, 1 s, 2 s, 4 s... capped at
 * lroPollIntervalMs) rather than the server's Retry-After, so short operations finish quickly.
 */
async function waitFor(
  deps: Pick<ActivityDeps, 'sleep' | 'lroPollIntervalMs'>,
  poller: { submitted(): Promise<void>; poll(): Promise<unknown>; isDone: boolean },
  maxPolls = 120,
): Promise<void> {
  await poller.submitted();
  for (let i = 0; !poller.isDone; i++) {
    if (i >= maxPolls) {
      throw Object.assign(new Error('long-running operation still in progress'), {
        code: 'OperationTimedOut',
      });
    }
    if (i > 0) await deps.sleep(Math.min(deps.lroPollIntervalMs, 1000 * 2 ** (i - 1)));
    await poller.poll();
  }
}

export async function deployTemplate(
  deps: Pick<ActivityDeps, 'config' | 'clients' | 'log' | 'sleep' | 'lroPollIntervalMs'>,
  input: TemplateInput,
): Promise<TemplateDeployment> {
  const plan = await planTemplate(deps, input);
  const rg = deps.config.resourceGroups.imageBuilder;
  const ops = deps.clients.imageBuilder.virtualMachineImageTemplates;
  const archivedLogs: string[] = [];
  const deleted: string[] = [];
  for (const name of plan.superseded) {
    let old: ImageTemplate;
    try {
      old = await ops.get(rg, name);
    } catch (e) {
      if (statusOf(e) === 404) continue;
      throw e;
    }
    if (old.lastRunStatus?.runState === 'Running' || old.lastRunStatus?.runState === 'Canceling') {
      throw permanent(
        'SupersededTemplateBusy',
        `template ${name} of ${input.definition} is still running a build (${old.lastRunStatus.runState}); wait for it or cancel it before building a changed definition`,
      );
    }
    const stagingRgId =
      old.exactStagingResourceGroup ?? old.stagingResourceGroup ?? plan.stagingResourceGroupId;
    const archived = await archiveRunLogs(deps, {
      definition: input.definition,
      buildId: input.buildId,
      templateName: name,
      stagingResourceGroupId: stagingRgId,
      runState: old.lastRunStatus?.runState ?? 'unknown',
      folder: `superseded/${name}`,
      allRuns: true,
    });
    archivedLogs.push(...archived.logs);
    try {
      await waitFor(deps, ops.delete(rg, name));
    } catch (e) {
      if (statusOf(e) !== 404) throw e;
    }
    deleted.push(name);
    deps.log(`deleted superseded template ${name} (${archived.logs.length} log(s) archived first)`);
  }
  if (plan.action !== 'reuse') {
    const body = templateBodyFor(deps, input);
    const poller = ops.createOrUpdate(rg, plan.templateName, body);
    await waitFor(deps, poller);
    const created = await ops.get(rg, plan.templateName);
    if (created.provisioningState !== 'Succeeded') {
      throw permanent(
        'TemplateProvisioningFailed',
        `template ${plan.templateName} is ${created.provisioningState}: ${created.provisioningError?.provisioningErrorCode ?? ''} ${created.provisioningError?.message ?? ''}`.trim(),
      );
    }
    deps.log(`created template ${plan.templateName}`);
  } else {
    deps.log(`reusing template ${plan.templateName}`);
  }
  return { ...plan, archivedLogs, deleted };
}
