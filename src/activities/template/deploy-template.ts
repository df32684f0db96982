/**
 * The image template of a build. Templates are immutable, so the name carries a hash of the canonical
 * body: an unchanged definition (same body) reuses its Succeeded template without any PUT; a changed one
 * archives the superseded template's logs, deletes it, then creates the new one. One template per
 * definition exists at a time (they share the definition's staging resource group).
 *
 * `planTemplate` is read-only (the HTTP dry run shows it); `deployTemplate` acts on the plan.
 *
 * Each build writes a managed image of its own (`<definition>-<UTC yyyyMMdd>-<n>`), so the current image is
 * never overwritten or deleted before a new one exists. The template name leaves that per-build name out
 * (it is computed from the content-named body), and a reused template gets this build's image name through
 * PATCH (Image Builder allows updating `distribute` since api 2024-02-01).
 *
 * A template whose creation ends Failed is deleted at once (a Failed template cannot be run and would block
 * the next creation), and the failure reports Image Builder's `provisioningError` (code and message; the
 * SDK's long-running-operation error alone only says "terminal provisioning state 'Failed'",
 * danielsollondon/azvmimagebuilder issue 50). An authorization refusal there (a gallery target the identity
 * cannot write yet, issue 29) is GrantNotEffective: the orchestration waits for the grant and tries again.
 */
import type { ImageTemplate, ImageTemplateDistributorUnion } from '@azure/arm-imagebuilder';
import { type ClassifiedError, classifyError, permanent, statusOf } from '../../azure/errors.js';
import { parseSubnetId, resourceGroupId } from '../../azure/resource-id.js';
import { stagingResourceGroupOf } from '../../config.js';
import {
  buildTemplateBody,
  datedImageName,
  parseDatedImageName,
  TAG,
  templateNameFor,
} from '../../image/template-body.js';
import { type ActivityDeps, definitionOf } from '../deps.js';
import { archiveRunLogs } from '../logs/archive-logs.js';
import { GRANT_NOT_EFFECTIVE, isAuthorizationRefusal, refusalAsGrantNotEffective } from '../run/image-run.js';

export interface TemplateInput {
  readonly definition: string;
  readonly buildId: string;
  /** Exact source image version (resolved). */
  readonly sourceVersion: string;
  /** Resource id of the builder identity. */
  readonly builderIdentityId: string;
  /** UTC yyyyMMdd of the build (orchestration clock): the date part of this build's managed image name. */
  readonly imageDate?: string | undefined;
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
  /** The managed image this build will create (absent when the definition distributes to a gallery only). */
  readonly managedImageId?: string | undefined;
}

/** How long an activity waits for a template operation before handing back to the orchestration. */
export const TEMPLATE_WAIT_BUDGET_MS = 4 * 60_000;

type Deps = Pick<ActivityDeps, 'config' | 'clients'>;

export function templateBodyFor(deps: Deps, input: TemplateInput, managedImageName?: string): ImageTemplate {
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
    managedImageName,
  });
}

/**
 * This build's managed image name: `<definition>-<imageDate>-<n>`, n one more than the highest n of that
 * date among the destination group's images (a failed run's leftovers included, so a name is never reused).
 */
export async function nextManagedImageName(
  deps: Deps,
  definition: string,
  imageDate: string,
): Promise<string> {
  let highest = 0;
  for await (const image of deps.clients.compute.images.listByResourceGroup(
    deps.config.resourceGroups.destination,
  )) {
    const parsed = image.name ? parseDatedImageName(definition, image.name) : undefined;
    if (parsed && parsed.date === imageDate) highest = Math.max(highest, parsed.n);
  }
  return datedImageName(definition, imageDate, highest + 1);
}

function managedTarget(body: ImageTemplate): string | undefined {
  const d = (body.distribute ?? []).find((x) => (x as { type?: string }).type === 'ManagedImage') as
    | { imageId?: string }
    | undefined;
  return d?.imageId;
}

/** The failure of a template whose creation ended Failed, with Image Builder's reason and the fix. */
export function provisioningFailure(
  templateName: string,
  error: { provisioningErrorCode?: string; message?: string } | undefined,
  fallback: string,
): ClassifiedError {
  const code = error?.provisioningErrorCode ?? 'Unknown';
  const message = error?.message ?? fallback;
  if (isAuthorizationRefusal(code, message)) {
    return permanent(
      GRANT_NOT_EFFECTIVE,
      `creating template ${templateName} was refused: ${code}: ${message}`,
    );
  }
  const fixes: Record<string, string> = {
    BadPIRSource: "the source image version does not exist in the region: check the definition's source",
    BadStagingResourceGroup:
      "the staging resource group must be empty, in the template's region, unused by another template, and give the builder identity Contributor: fix or delete it (STAGING_RESOURCE_GROUP_PREFIX)",
    BadSharedImageDistribute:
      'check distribute.gallery (the gallery image definition must exist, same OS and generation)',
  };
  const fix = fixes[code];
  return permanent(
    'TemplateProvisioningFailed',
    `template ${templateName} failed to provision (the failed template was deleted): ${code}: ${message}${fix ? ` — ${fix}` : ''}`,
  );
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
  // The name comes from the content-named body: the per-build image name does not change the template.
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
  if (same && same.provisioningState === 'Creating') {
    return {
      templateName,
      action: 'reuse',
      superseded,
      stagingResourceGroupId,
      reason: 'the template is still being created (an earlier attempt): wait for it',
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
  budgetMs = TEMPLATE_WAIT_BUDGET_MS,
): Promise<void> {
  await poller.submitted();
  let waited = 0;
  for (let i = 0; !poller.isDone; i++) {
    if (waited >= budgetMs) {
      // Transient: the orchestration calls again after a durable timer; the next call waits on the same
      // operation's result (a template still Creating is waited for, never deleted).
      throw Object.assign(new Error('long-running operation still in progress'), {
        code: 'OperationTimedOut',
      });
    }
    if (i > 0) waited += Math.min(deps.lroPollIntervalMs, 1000 * 2 ** (i - 1));
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
  const def = deps.config.definitions.find((d) => d.name === input.definition);
  const imageName =
    def?.distribute.managedImage && input.imageDate
      ? await nextManagedImageName(deps, input.definition, input.imageDate)
      : undefined;
  const body = templateBodyFor(deps, input, imageName);
  const managedImageId = managedTarget(body);
  if (plan.action !== 'reuse') {
    let createError: unknown;
    try {
      await waitFor(deps, ops.createOrUpdate(rg, plan.templateName, body));
    } catch (e) {
      if (classifyError(e).kind === 'transient') throw e;
      // The operation failed: read the reason from the template (below) rather than the SDK's message.
      createError = e;
      deps.log(`creating template ${plan.templateName} failed: ${(e as Error).message}`);
    }
    try {
      await ensureProvisioned(deps, plan.templateName);
    } catch (e) {
      // Refused before a template existed (e.g. 400 validation, 403): report that refusal.
      if (createError !== undefined && statusOf(e) === 404) throw refusalAsGrantNotEffective(createError);
      throw e;
    }
    deps.log(`created template ${plan.templateName}`);
  } else {
    const existing = await ensureProvisioned(deps, plan.templateName);
    const current = managedTarget(existing);
    if (managedImageId && current?.toLowerCase() !== managedImageId.toLowerCase()) {
      // This build's image name: PATCH the template's distribution (allowed since api 2024-02-01).
      await waitFor(
        deps,
        ops.update(rg, plan.templateName, {
          properties: { distribute: body.distribute as ImageTemplateDistributorUnion[] },
        }),
      );
      deps.log(`reusing template ${plan.templateName}; this build writes ${managedImageId}`);
    } else {
      deps.log(`reusing template ${plan.templateName}`);
    }
  }
  return { ...plan, archivedLogs, deleted, ...(managedImageId ? { managedImageId } : {}) };
}

/**
 * Waits (within the activity's budget) for a template being created and returns it once Succeeded. A
 * template that ended Failed is deleted and its provisioningError reported.
 */
async function ensureProvisioned(
  deps: Pick<ActivityDeps, 'config' | 'clients' | 'log' | 'sleep' | 'lroPollIntervalMs'>,
  templateName: string,
): Promise<ImageTemplate> {
  const rg = deps.config.resourceGroups.imageBuilder;
  const ops = deps.clients.imageBuilder.virtualMachineImageTemplates;
  let t = await ops.get(rg, templateName);
  for (let waited = 0, i = 0; t.provisioningState === 'Creating' || t.provisioningState === 'Updating'; i++) {
    if (waited >= TEMPLATE_WAIT_BUDGET_MS) {
      throw Object.assign(new Error(`template ${templateName} is still ${t.provisioningState}`), {
        code: 'OperationTimedOut',
      });
    }
    const delay = Math.min(deps.lroPollIntervalMs, 1000 * 2 ** i);
    await deps.sleep(delay);
    waited += delay;
    t = await ops.get(rg, templateName);
  }
  if (t.provisioningState === 'Succeeded') return t;
  const failure = provisioningFailure(
    templateName,
    t.provisioningError as { provisioningErrorCode?: string; message?: string } | undefined,
    `provisioning state ${t.provisioningState ?? 'unknown'}`,
  );
  try {
    await waitFor(deps, ops.delete(rg, templateName));
    deps.log(`deleted failed template ${templateName}`);
  } catch (e) {
    if (statusOf(e) !== 404)
      deps.log(`deleting failed template ${templateName} failed: ${(e as Error).message}`);
  }
  throw failure;
}
