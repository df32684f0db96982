/**
 * Microsoft.VirtualMachineImages/imageTemplates: PUT (201 + Azure-AsyncOperation, Creating ->
 * Succeeded/Failed), immutability (409 on change, 200 on repeat), GET/list/DELETE, run/cancel with the
 * build state machine on the virtual clock, logs in the staging account, the identity's rights checked at
 * template creation, when a run is invoked and again at distribution,
 * run outputs.
 */
import { randomUUID } from 'node:crypto';
import type { ArmRequest, ArmResponse, EmulatorContext } from '../context.js';
import { ArmError, conflict, resourceNotFound } from '../errors.js';
import { type AsyncOperation, failedWith, type OperationOutcome } from '../operations.js';
import {
  acceptedResponse,
  asyncPutResponse,
  normalizeLocation,
  provisioningOperation,
  requireObjectBody,
  requireResourceGroup,
  resourceGroupId,
  tagsOf,
} from '../providers/common.js';
import { IDENTITY_TYPE } from '../providers/msi.js';
import { subnetEgress } from '../providers/network.js';
import { deleteResourceGroupContents, putResourceGroup } from '../providers/resources.js';
import { putStagingStorageAccount, storageAccountId } from '../providers/storage.js';
import { ROLE_ASSIGNMENT_TYPE } from '../rbac.js';
import type { Json } from '../store.js';
import { customizationLog, LOG_CONTAINER, type LogContext, validationLog } from './build-logs.js';
import {
  displayedState,
  planRun,
  type RunEvent,
  type RunState,
  type RunSubState,
  runEvents,
  timeoutMsOf,
} from './build-run.js';
import { distributeArtifacts } from './distribution.js';
import {
  notAuthorizedMessage,
  type ProvisioningFailure,
  provisioningFailure,
  unauthorizedDistributionTarget,
} from './provisioning-checks.js';
import { emulatedScan } from './scan-output.js';
import { canonicalTemplate, validateDistributors, validateTemplateBody } from './template-validation.js';
import { IMAGE_BUILDER_NAMESPACE, type RunRecord, TEMPLATE_TYPE, type TemplateRecord } from './types.js';
import { newestVersion } from './versions.js';

const NS = IMAGE_BUILDER_NAMESPACE;
/** Names of the completers of Image Builder's operations (registered by the service). */
const COMPLETE_CREATION = 'aib.templateCreation';
const COMPLETE_DELETION = 'aib.templateDeletion';
const COMPLETE_RUN = 'aib.run';
const CONTRIBUTOR_ROLE_GUID = 'b24988ac-6180-42a0-ab88-20f7382dd24c';

/** What ImageBuilderService.snapshot() saves. */
export interface ImageBuilderSnapshot {
  readonly holdCreation: boolean;
  readonly templates: readonly (Omit<TemplateRecord, 'runOutputs' | 'run'> & {
    readonly currentRun: string | undefined;
    readonly runOutputs: [string, Json][];
  })[];
}

export class ImageBuilderService {
  private readonly templates = new Map<string, TemplateRecord>();
  /** While true, new templates stay Creating until released (a hanging creation, for tests). */
  private holdCreation = false;

  /** Holds new template creations in Creating, or releases every held one. */
  setCreationHold(hold: boolean): { hold: boolean; held: string[] } {
    this.holdCreation = hold;
    if (!hold) for (const t of this.templates.values()) t.held = false;
    return {
      hold,
      held: this.records()
        .filter((t) => t.held)
        .map((t) => t.name),
    };
  }

  constructor(private readonly ctx: EmulatorContext) {
    // What completes Image Builder's operations, by name, so that operations are plain data.
    ctx.operations.register(COMPLETE_CREATION, (args) => {
      const t = this.get(String(args.templateId));
      if (!t) return { status: 'Canceled' };
      return t.held
        ? undefined
        : this.completeProvisioning(t, args.failure as ProvisioningFailure | undefined);
    });
    ctx.operations.register(COMPLETE_DELETION, (args) => {
      const t = this.get(String(args.templateId));
      if (t) this.completeDeletion(t);
      return { status: 'Succeeded' };
    });
    ctx.operations.register(COMPLETE_RUN, (args) => {
      const t = this.get(String(args.templateId));
      return runOutcome(t?.runs.find((r) => r.guid === args.runGuid));
    });
  }

  private op(id: string): AsyncOperation {
    const op = this.ctx.operations.get(id);
    if (!op) throw new Error(`the emulator lost operation ${id}`);
    return op;
  }

  records(): TemplateRecord[] {
    return [...this.templates.values()];
  }

  get(id: string): TemplateRecord | undefined {
    return this.templates.get(id.toLowerCase());
  }

  clear(): void {
    this.templates.clear();
    this.holdCreation = false;
  }

  /** Every template and run as plain data (persistence.ts). */
  snapshot(): ImageBuilderSnapshot {
    return {
      holdCreation: this.holdCreation,
      templates: this.records().map((t) => {
        const { runOutputs, run, ...rest } = t;
        return structuredClone({
          ...rest,
          // The current run is one of `runs`: saved by its GUID, so it stays the same object after a restore.
          currentRun: run?.guid,
          runOutputs: [...runOutputs.entries()],
        });
      }),
    };
  }

  restore(saved: ImageBuilderSnapshot): void {
    this.templates.clear();
    this.holdCreation = saved.holdCreation;
    for (const s of structuredClone(saved.templates)) {
      const { runOutputs, currentRun, ...rest } = s;
      const record: TemplateRecord = { ...rest, runOutputs: new Map(runOutputs) };
      const run = record.runs.find((r) => r.guid === currentRun);
      if (run) record.run = run;
      this.templates.set(record.id.toLowerCase(), record);
    }
  }

  /** Advances every active run to the current virtual time. */
  tick(): void {
    const now = this.ctx.now();
    for (const t of this.templates.values()) {
      if (t.run && !t.run.finished) this.advance(t, t.run, now);
      if (t.provisioningState === 'Creating') this.ctx.operations.settle(this.op(t.createOpId));
      // A deletion also ends on its own once virtual time has moved past its start.
      const deleteOp = t.deleteOpId ? this.op(t.deleteOpId) : undefined;
      if (t.provisioningState === 'Deleting' && deleteOp && now > deleteOp.startMs)
        this.ctx.operations.settle(deleteOp);
    }
  }

  // ---------- views ----------

  view(t: TemplateRecord): Json {
    const props = { ...((t.request.properties ?? {}) as Json) };
    const source = { ...((props.source ?? {}) as Json) };
    const exact = t.run?.exactVersion ?? t.runs.at(-1)?.exactVersion;
    if (source.type === 'PlatformImage' && exact) source.exactVersion = exact;
    const lastRun = t.run;
    return {
      id: t.id,
      name: t.name,
      type: TEMPLATE_TYPE,
      location: t.location,
      ...(t.tags ? { tags: t.tags } : {}),
      identity: {
        type: 'UserAssigned',
        userAssignedIdentities: {
          [t.identity.id]: { principalId: t.identity.principalId, clientId: t.identity.clientId },
        },
      },
      properties: {
        ...props,
        source,
        buildTimeoutInMinutes: props.buildTimeoutInMinutes ?? 0,
        vmProfile: { vmSize: '', osDiskSizeGB: 0, ...((props.vmProfile ?? {}) as Json) },
        provisioningState: t.provisioningState,
        ...(t.provisioningError ? { provisioningError: t.provisioningError } : {}),
        ...(lastRun ? { lastRunStatus: this.lastRunStatus(lastRun) } : {}),
        exactStagingResourceGroup: resourceGroupId(this.ctx.subscriptionId, t.staging.resourceGroup),
      },
    };
  }

  private lastRunStatus(run: RunRecord): Json {
    const start = new Date(run.plan.startMs).toISOString();
    if (run.finished) {
      return {
        startTime: start,
        endTime: new Date(run.finished.endMs).toISOString(),
        runState: run.finished.runState,
        runSubState: run.finished.runSubState,
        message: run.finished.message,
      };
    }
    return { startTime: start, ...displayedState(run.plan, this.ctx.now()), message: '' };
  }

  // ---------- lifecycle ----------

  put(req: ArmRequest, sub: string, rg: string, name: string): ArmResponse {
    const ctx = this.ctx;
    requireResourceGroup(ctx, sub, rg);
    const body = requireObjectBody(req);
    const id = `${resourceGroupId(ctx.subscriptionId, rg)}/providers/${NS}/imageTemplates/${name}`;
    const validated = validateTemplateBody(name, body, ctx.subscriptionId);
    const canonical = canonicalTemplate(body);
    const existing = this.get(id);
    if (existing?.provisioningState === 'Deleting') {
      throw conflict(
        'Conflict',
        `The image template '${name}' is being deleted; wait until the deletion has finished before creating it again.`,
      );
    }
    if (existing) {
      if (existing.canonical !== canonical) {
        throw conflict(
          'Conflict',
          'Update/Upgrade of image templates is currently not supported. Please change the name of the template you are submitting.',
        );
      }
      return { status: 200, body: this.view(existing) };
    }
    const identity = ctx.store.get(validated.identityId);
    if (!identity || identity.type !== IDENTITY_TYPE) {
      throw new ArmError(
        400,
        'InvalidParameter',
        `identity.userAssignedIdentities: the user-assigned identity '${validated.identityId}' was not found; create it first.`,
        [
          {
            code: 'InvalidParameter',
            message: 'identity not found',
            target: 'identity.userAssignedIdentities',
          },
        ],
      );
    }
    const location = normalizeLocation(String(body.location));
    const identityProps = identity.body.properties as Json;
    const stagingName =
      validated.stagingResourceGroup?.name ?? `IT_${rg}_${name}_${randomUUID()}`.slice(0, 90);
    const stagingId = resourceGroupId(ctx.subscriptionId, stagingName);
    const stagingExists = ctx.store.has(stagingId);
    // What AIB finds wrong while creating the template, checked when the PUT arrives.
    const failure = provisioningFailure(ctx, {
      principalId: String(identityProps.principalId),
      location,
      source: (body.properties as Json).source as Json,
      subnetId: validated.subnetId,
      containerInstanceSubnetId: validated.containerInstanceSubnetId,
      existingStaging: stagingExists ? stagingId : undefined,
      stagingInUse: this.records().map((t) => resourceGroupId(ctx.subscriptionId, t.staging.resourceGroup)),
    });
    const account = ctx.nextStagingAccount();
    const record: TemplateRecord = {
      id,
      name,
      resourceGroup: rg,
      location,
      request: body,
      canonical,
      identity: {
        id: validated.identityId,
        principalId: String(identityProps.principalId),
        clientId: String(identityProps.clientId),
      },
      staging: { resourceGroup: stagingName, createdGroup: !stagingExists, account },
      provisioningState: 'Creating',
      createOpId: '',
      tags: tagsOf(body),
      runs: [],
      runOutputs: new Map(),
    };
    const completion = {
      name: COMPLETE_CREATION,
      args: { templateId: id, ...(failure ? { failure: { ...failure } } : {}) },
    };
    if (this.holdCreation) {
      record.held = true;
      record.createOpId = ctx.operations.create({
        namespace: NS,
        location,
        apiVersion: req.apiVersion,
        resourceId: id,
        driver: { kind: 'watch', completion },
      }).id;
    } else {
      record.createOpId = provisioningOperation(ctx, req, NS, location, id, completion).id;
    }
    this.templates.set(id.toLowerCase(), record);
    ctx.store.put(id, TEMPLATE_TYPE, { id, name, type: TEMPLATE_TYPE, location }, ctx.now());
    return asyncPutResponse(ctx, req, this.op(record.createOpId), true, this.view(record));
  }

  private completeProvisioning(
    t: TemplateRecord,
    failure: ProvisioningFailure | undefined,
  ): OperationOutcome {
    const ctx = this.ctx;
    if (failure) {
      t.provisioningState = 'Failed';
      t.provisioningError = {
        provisioningErrorCode: failure.provisioningErrorCode,
        message: failure.message,
      };
      // The operation status carries a generic message; the cause is only in `details` (and in the
      // template's provisioningError). The SDK's poller reports the top-level code and message only.
      // https://github.com/danielsollondon/azvmimagebuilder/issues/50
      return {
        status: 'Failed',
        error: {
          code: 'ResourceOperationFailure',
          message: "The resource operation completed with terminal provisioning state 'Failed'.",
          details: [{ code: failure.code, message: failure.message }],
        },
      };
    }
    const stagingId = resourceGroupId(ctx.subscriptionId, t.staging.resourceGroup);
    const templateTags = { imageTemplateName: t.name, imageTemplateResourceGroupName: t.resourceGroup };
    const existing = ctx.store.get(stagingId);
    if (existing) {
      existing.body = {
        ...existing.body,
        tags: { ...((existing.body.tags ?? {}) as Json), usedBy: 'AzureVMImageBuilder', ...templateTags },
      };
    } else {
      putResourceGroup(ctx, t.staging.resourceGroup, t.location, {
        createdBy: 'AzureVMImageBuilder',
        ...templateTags,
      });
      // As AIB does for a group it creates: Contributor for the template identity.
      const assignment = randomUUID();
      const id = `${stagingId}/providers/Microsoft.Authorization/roleAssignments/${assignment}`;
      ctx.store.put(
        id,
        ROLE_ASSIGNMENT_TYPE,
        {
          id,
          name: assignment,
          type: ROLE_ASSIGNMENT_TYPE,
          properties: {
            roleDefinitionId: `/subscriptions/${ctx.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${CONTRIBUTOR_ROLE_GUID}`,
            principalId: t.identity.principalId,
            principalType: 'ServicePrincipal',
            scope: stagingId,
            createdOn: ctx.isoNow(),
            updatedOn: ctx.isoNow(),
            createdBy: null,
            updatedBy: null,
            delegatedManagedIdentityResourceId: null,
          },
        },
        ctx.now(),
      );
    }
    putStagingStorageAccount(ctx, t.staging.resourceGroup, t.staging.account, t.location, {
      createdBy: 'AzureVMImageBuilder',
      imageTemplateName: t.name,
      imageTemplateResourceGroupName: t.resourceGroup,
    });
    t.provisioningState = 'Succeeded';
    return { status: 'Succeeded' };
  }

  getTemplate(sub: string, rg: string, name: string): TemplateRecord {
    requireResourceGroup(this.ctx, sub, rg);
    const t = this.get(
      `${resourceGroupId(this.ctx.subscriptionId, rg)}/providers/${NS}/imageTemplates/${name}`,
    );
    if (!t) throw resourceNotFound(TEMPLATE_TYPE, name, rg);
    if (t.provisioningState === 'Creating') this.ctx.operations.observe(this.op(t.createOpId));
    if (t.provisioningState === 'Deleting' && t.deleteOpId)
      this.ctx.operations.observe(this.op(t.deleteOpId));
    if (t.provisioningState === 'Deleting' && !this.get(t.id))
      throw resourceNotFound(TEMPLATE_TYPE, name, rg);
    return t;
  }

  /**
   * PATCH: tags, identity, and the updatable properties (distribute, vmProfile), as the 2025-10-01 API
   * allows; refused while a build runs. A later PUT must then repeat the updated content.
   */
  patch(req: ArmRequest, sub: string, rg: string, name: string): ArmResponse {
    const ctx = this.ctx;
    const t = this.getTemplate(sub, rg, name);
    if (t.run && !t.run.finished) {
      throw conflict(
        'Conflict',
        `The image template '${name}' cannot be updated while a build is in progress.`,
      );
    }
    const body = requireObjectBody(req);
    const unknown = Object.keys(body).filter((k) => !['tags', 'identity', 'properties'].includes(k));
    const props = (body.properties ?? {}) as Json;
    const unknownProps = Object.keys(props).filter((k) => !['distribute', 'vmProfile'].includes(k));
    if (unknown.length > 0 || unknownProps.length > 0) {
      throw new ArmError(
        400,
        'InvalidParameter',
        `Only tags, identity, properties.distribute and properties.vmProfile can be updated (got ${[...unknown, ...unknownProps.map((k) => `properties.${k}`)].join(', ')}).`,
      );
    }
    if (props.distribute !== undefined) validateDistributors(props.distribute);
    const request: Json = {
      ...t.request,
      properties: { ...((t.request.properties ?? {}) as Json), ...props },
    };
    if (body.tags !== undefined) request.tags = tagsOf(body);
    let identity = t.identity;
    if (body.identity !== undefined) {
      const ids = Object.keys((((body.identity ?? {}) as Json).userAssignedIdentities ?? {}) as Json);
      if (ids.length !== 1) {
        throw new ArmError(
          400,
          'InvalidParameter',
          'identity.userAssignedIdentities: an image template needs exactly one user-assigned identity.',
        );
      }
      const stored = ctx.store.get(ids[0]!);
      if (!stored || stored.type !== IDENTITY_TYPE) {
        throw new ArmError(
          400,
          'InvalidParameter',
          `identity.userAssignedIdentities: the user-assigned identity '${ids[0]}' was not found.`,
        );
      }
      const p = stored.body.properties as Json;
      identity = { id: ids[0]!, principalId: String(p.principalId), clientId: String(p.clientId) };
      request.identity = { type: 'UserAssigned', userAssignedIdentities: { [ids[0]!]: {} } };
    }
    t.request = request;
    t.canonical = canonicalTemplate(request);
    t.identity = identity;
    t.tags = tagsOf(request);
    return { status: 200, body: this.view(t) };
  }

  delete(req: ArmRequest, sub: string, rg: string, name: string): ArmResponse {
    const ctx = this.ctx;
    requireResourceGroup(ctx, sub, rg);
    const t = this.get(`${resourceGroupId(ctx.subscriptionId, rg)}/providers/${NS}/imageTemplates/${name}`);
    if (!t) return { status: 204 };
    // No source settles what AIB answers here; the stricter answer: a template whose creation or
    // deletion has not settled cannot be deleted (409) until it has.
    if (t.provisioningState === 'Creating' || t.provisioningState === 'Deleting') {
      throw conflict(
        'Conflict',
        `The image template '${name}' is in provisioning state '${t.provisioningState}'; wait until it is Succeeded or Failed before deleting it.`,
      );
    }
    if (t.run && !t.run.finished) {
      throw conflict(
        'Conflict',
        `The image template '${name}' cannot be deleted while a build is in progress (runState ${displayedState(t.run.plan, ctx.now()).runState}); cancel the build and wait for it to end.`,
      );
    }
    // Deleting until the operation completes (first poll or read), then the template and its staging
    // resources are gone.
    t.provisioningState = 'Deleting';
    const op = provisioningOperation(ctx, req, NS, t.location, t.id, {
      name: COMPLETE_DELETION,
      args: { templateId: t.id },
    });
    t.deleteOpId = op.id;
    return acceptedResponse(ctx, req, op, { location: true });
  }

  private completeDeletion(t: TemplateRecord): void {
    const ctx = this.ctx;
    this.templates.delete(t.id.toLowerCase());
    ctx.store.delete(t.id);
    const stagingId = resourceGroupId(ctx.subscriptionId, t.staging.resourceGroup);
    ctx.store.delete(storageAccountId(ctx.subscriptionId, t.staging.resourceGroup, t.staging.account));
    if (t.staging.createdGroup) deleteResourceGroupContents(ctx, stagingId);
    for (const run of t.runs) ctx.logs.deletePrefix(ctx.blobAccountUrl(t.staging.account), `${run.guid}/`);
  }

  run(req: ArmRequest, sub: string, rg: string, name: string): ArmResponse {
    const ctx = this.ctx;
    const t = this.getTemplate(sub, rg, name);
    if (t.provisioningState !== 'Succeeded') {
      throw new ArmError(
        400,
        'InvalidTemplateState',
        `The image template '${name}' is in provisioning state '${t.provisioningState}' and cannot be run; ${t.provisioningState === 'Failed' ? 'delete it and create it again after fixing the cause' : 'wait for its creation to finish'}.`,
      );
    }
    if (t.run && !t.run.finished) {
      throw conflict(
        'Conflict',
        `The image template '${name}' already has a build in progress; wait for it to finish or cancel it before running again.`,
      );
    }
    const props = (t.request.properties ?? {}) as Json;
    // Image Builder checks the identity's write rights on every distribution target when the run is
    // invoked: without them the Run operation fails at once and no build starts (the previous run's
    // status stays). https://github.com/MicrosoftDocs/azure-docs/issues/99193
    const denied = unauthorizedDistributionTarget(
      ctx,
      t.identity.principalId,
      (props.distribute ?? []) as Json[],
    );
    if (denied) {
      const refused = ctx.operations.create({
        namespace: NS,
        location: t.location,
        apiVersion: req.apiVersion,
        resourceId: t.id,
        driver: {
          kind: 'polls',
          remaining: 1,
          completion: failedWith({ code: 'Unauthorized', message: notAuthorizedMessage(denied) }),
        },
      });
      return acceptedResponse(ctx, req, refused, { asyncOperation: true });
    }
    const validate = (props.validate ?? {}) as Json;
    const hasValidation = Array.isArray(validate.inVMValidations)
      ? validate.inVMValidations.length > 0
      : validate.sourceValidationOnly === true;
    // A build subnet without a path to the internet: the customizer's downloads time out.
    const subnetId = (((props.vmProfile ?? {}) as Json).vnetConfig as Json | undefined)?.subnetId;
    const egress = typeof subnetId === 'string' ? subnetEgress(ctx, subnetId) : undefined;
    const noEgress = egress && !egress.internet ? egress.why : undefined;
    const planOptions = {
      optimize: props.optimize !== undefined,
      validate: hasValidation,
      outcome: noEgress && ctx.build.outcome === 'success' ? 'customizer-failure' : ctx.build.outcome,
      timeoutMs: timeoutMsOf(props.buildTimeoutInMinutes as number | undefined),
    } as const;
    let plan = planRun(ctx.now(), ctx.build.phaseDurations, planOptions);
    const runGuid = randomUUID();
    // The scan customizer runs last, when customization has otherwise succeeded; its gate can fail the run.
    const customizedAt = plan.phases.find((p) => p.subState === 'Customizing')?.endMs;
    const scan =
      customizedAt !== undefined &&
      planOptions.outcome !== 'customizer-failure' &&
      planOptions.outcome !== 'timeout'
        ? emulatedScan({
            customize: Array.isArray(props.customize) ? (props.customize as Json[]) : [],
            findings: ctx.build.findings,
            runGuid,
            atMs: customizedAt,
          })
        : undefined;
    if (scan?.blocked) {
      plan = planRun(ctx.now(), ctx.build.phaseDurations, { ...planOptions, outcome: 'customizer-failure' });
    }
    const source = (props.source ?? {}) as Json;
    let exactVersion: string | undefined;
    if (source.type === 'PlatformImage') {
      const versions =
        ctx.marketplace.get(
          ctx.marketplaceKey(String(source.publisher), String(source.offer), String(source.sku)),
        ) ?? [];
      exactVersion = source.version === 'latest' ? newestVersion(versions) : String(source.version);
    }
    const op = ctx.operations.create({
      namespace: NS,
      location: t.location,
      apiVersion: req.apiVersion,
      resourceId: t.id,
      driver: { kind: 'watch', completion: { name: COMPLETE_RUN, args: { templateId: t.id, runGuid } } },
    });
    const run: RunRecord = {
      guid: runGuid,
      scan,
      plan,
      continueOnValidationFailure: validate.continueDistributeOnFailure === true,
      exactVersion,
      opId: op.id,
      applied: 0,
      validationFailed: false,
      noEgress,
    };
    t.run = run;
    t.runs.push(run);
    ctx.logs.write(
      ctx.blobAccountUrl(t.staging.account),
      `${run.guid}/customization.log`,
      customizationLog(this.logContext(t, run), 'in-progress', plan.startMs),
    );
    return acceptedResponse(ctx, req, op, { asyncOperation: true });
  }

  cancel(req: ArmRequest, sub: string, rg: string, name: string): ArmResponse {
    const ctx = this.ctx;
    const t = this.getTemplate(sub, rg, name);
    const run = t.run;
    if (!run || run.finished) {
      throw conflict('Conflict', `The image template '${name}' has no build in progress to cancel.`);
    }
    if (run.plan.cancelAtMs === undefined) run.plan.cancelAtMs = ctx.now();
    // AIB's cancel does not wait for the build to stop: the operation completes once the request is
    // accepted, and lastRunStatus shows Canceling until the build has wound down (virtual time).
    run.cancelOpId ??= provisioningOperation(ctx, req, NS, t.location, t.id).id;
    return acceptedResponse(ctx, req, this.op(run.cancelOpId), { asyncOperation: true });
  }

  // ---------- the build ----------

  private logContext(t: TemplateRecord, run: RunRecord): LogContext {
    const props = (t.request.properties ?? {}) as Json;
    const source = (props.source ?? {}) as Json;
    const customizers = Array.isArray(props.customize)
      ? (props.customize as Json[]).map((c, i) => String(c.name ?? `step-${i + 1}`))
      : [];
    return {
      templateName: t.name,
      runGuid: run.guid,
      startMs: run.plan.startMs,
      source:
        source.type === 'PlatformImage'
          ? `${String(source.publisher)}:${String(source.offer)}:${String(source.sku)}:${run.exactVersion ?? String(source.version)}`
          : String(source.imageId ?? source.imageVersionId),
      customizers,
      vmSize: String(((props.vmProfile ?? {}) as Json).vmSize ?? 'Standard_D2ds_v4') || 'Standard_D2ds_v4',
      bytes: this.ctx.build.logBytes,
      noEgress: run.noEgress,
      scan: run.scan,
    };
  }

  logUrl(t: TemplateRecord, run: RunRecord, file: 'customization.log' | 'validation.log'): string {
    return `${this.ctx.blobAccountUrl(t.staging.account)}/${LOG_CONTAINER}/${run.guid}/${file}`;
  }

  private advance(t: TemplateRecord, run: RunRecord, now: number): void {
    const events = runEvents(run.plan, run.continueOnValidationFailure);
    while (!run.finished && run.applied < events.length && events[run.applied]!.atMs <= now) {
      this.apply(t, run, events[run.applied]!);
      run.applied += 1;
    }
  }

  private finish(
    run: RunRecord,
    runState: RunState,
    runSubState: RunSubState,
    endMs: number,
    message: string,
  ): void {
    run.finished = { runState, runSubState, endMs, message };
  }

  private apply(t: TemplateRecord, run: RunRecord, e: RunEvent): void {
    const ctx = this.ctx;
    const account = ctx.blobAccountUrl(t.staging.account);
    const lc = this.logContext(t, run);
    const customizationUrl = this.logUrl(t, run, 'customization.log');
    switch (e.kind) {
      case 'customized': {
        ctx.logs.write(
          account,
          `${run.guid}/customization.log`,
          customizationLog(lc, e.failed ? 'failed' : 'succeeded', e.atMs),
        );
        if (e.failed) {
          this.finish(
            run,
            'Failed',
            'Customizing',
            e.atMs,
            `Failed while waiting for packerizer: Packer build command has failed: exit status 1. A customization step failed during the image build; review the build log to find it. Image Build log location: ${customizationUrl}. OperationId: ${run.opId}.`,
          );
        }
        return;
      }
      case 'validated': {
        const validate = ((t.request.properties as Json).validate ?? {}) as Json;
        const names = Array.isArray(validate.inVMValidations)
          ? (validate.inVMValidations as Json[]).map((v, i) => String(v.name ?? `validation-${i + 1}`))
          : [];
        ctx.logs.write(account, `${run.guid}/validation.log`, validationLog(lc, names, e.failed, e.atMs));
        if (e.failed) {
          run.validationFailed = true;
          if (!run.continueOnValidationFailure) {
            this.finish(
              run,
              'Failed',
              'Validating',
              e.atMs,
              `Failed while waiting for packerizer: Packer build command has failed during validation: exit status 1. An in-VM validation failed; review the validation log. Validation log location: ${this.logUrl(t, run, 'validation.log')}. Image Build log location: ${customizationUrl}. OperationId: ${run.opId}.`,
            );
          }
        }
        return;
      }
      case 'distributed':
        this.distribute(t, run, e.atMs);
        return;
      case 'timeout': {
        const phase = displayedState(run.plan, e.atMs).runSubState;
        ctx.logs.write(account, `${run.guid}/customization.log`, customizationLog(lc, 'timed-out', e.atMs));
        this.finish(
          run,
          'Failed',
          phase,
          e.atMs,
          `Failed in building/customizing image: Failed while waiting for packerizer: Timeout waiting for microservice to complete: 'context deadline exceeded' (buildTimeoutInMinutes: ${run.plan.timeoutMs / 60000}). Image Build log location: ${customizationUrl}. OperationId: ${run.opId}.`,
        );
        return;
      }
      case 'canceled': {
        const phase = displayedState(run.plan, run.plan.cancelAtMs ?? e.atMs).runSubState;
        ctx.logs.write(account, `${run.guid}/customization.log`, customizationLog(lc, 'canceled', e.atMs));
        this.finish(run, 'Canceled', phase, e.atMs, 'The build was canceled by the user.');
        return;
      }
    }
  }

  private distribute(t: TemplateRecord, run: RunRecord, atMs: number): void {
    const { failures, total } = distributeArtifacts(this.ctx, t, run, atMs);
    if (failures.length === 0) {
      if (run.validationFailed) {
        // continueDistributeOnFailure: the images are distributed, yet the run is reported as failed.
        this.finish(
          run,
          'Failed',
          'Distributing',
          atMs,
          `Validation failed; the images were distributed because continueDistributeOnFailure is set. Validation log location: ${this.logUrl(t, run, 'validation.log')}. OperationId: ${run.opId}.`,
        );
        return;
      }
      this.finish(run, 'Succeeded', 'Distributing', atMs, '');
      return;
    }
    const message = `Failed in distributing ${failures.length} images out of total ${total}: ${failures
      .map((f, i) => `{[Error ${i}] ${f}}`)
      .join(' ')}`;
    this.finish(
      run,
      failures.length < total ? 'PartiallySucceeded' : 'Failed',
      'Distributing',
      atMs,
      message,
    );
  }
}

function runOutcome(run: RunRecord | undefined): OperationOutcome | undefined {
  const f = run?.finished;
  if (!f) return undefined;
  if (f.runState === 'Succeeded' || f.runState === 'PartiallySucceeded') return { status: 'Succeeded' };
  if (f.runState === 'Canceled')
    return { status: 'Canceled', error: { code: 'OperationCanceled', message: f.message } };
  return { status: 'Failed', error: { code: 'ImageBuildFailed', message: f.message } };
}
