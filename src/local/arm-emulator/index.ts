/**
 * The local Azure Resource Manager emulator: an in-memory HTTPS server with the ARM surface the app uses
 * (Image Builder, Authorization, Managed Identity, Network, Compute, Resources, tags at scope,
 * Storage accounts), driven
 * by the shared virtual clock, with a control API for tests and the simulation.
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createAzureClients } from '../../azure/clients.js';
import type { VirtualClock } from '../clock.js';
import { DEFAULT_SCENARIO } from '../scenarios/default.js';
import type { Scenario } from '../scenarios/types.js';
import { LocalTestCredential } from '../test-credential.js';
import type { LocalCertificate } from '../tls.js';
import { BuildLogWriter } from './aib/build-logs.js';
import { ImageBuilderService } from './aib/image-templates.js';
import { imageBuilderRoutes } from './aib/routes.js';
import { SCAN_FINDINGS } from './aib/scan-output.js';
import {
  type BuildBehaviour,
  DEFAULT_BUILD_BEHAVIOUR,
  DEFAULT_TIMING,
  EmulatorContext,
  type PhaseDurations,
  type TimingSettings,
} from './context.js';
import { createControlHandler } from './control.js';
import { type ActiveFault, FaultInjector, type FaultSpec } from './faults.js';
import { captureEmulatorState, EmulatorStateFile, restoreEmulatorState } from './persistence.js';
import { authorizationRoutes } from './providers/authorization.js';
import { computeRoutes, GALLERY_IMAGE_VERSION_TYPE, IMAGE_TYPE } from './providers/compute.js';
import { IDENTITY_TYPE, msiRoutes } from './providers/msi.js';
import { networkRoutes } from './providers/network.js';
import { operationRoutes } from './providers/operations.js';
import { DEFAULT_REGISTERED_PROVIDERS, resourceRoutes } from './providers/resources.js';
import { storageRoutes } from './providers/storage.js';
import { tagRoutes } from './providers/tags.js';
import { type AssignmentView, assignmentView, ROLE_ASSIGNMENT_TYPE, ROLE_DEFINITION_TYPE } from './rbac.js';
import { type PendingChange, type PropagationSpec, validatePropagationSpec } from './rbac-propagation.js';
import { ExchangeRecorder, type RecordedExchange } from './recorder.js';
import { applyScenario, publishMarketplaceVersion, seedBuiltInRoles } from './seed.js';
import { CONTROL_PREFIX, createRequestHandler } from './server.js';
import type { Json } from './store.js';
import { DEFAULT_THROTTLE, SubscriptionThrottle, type ThrottleSettings } from './throttle.js';

export type { BuildBehaviour, BuildOutcome, PhaseDurations, TimingSettings } from './context.js';
export type { FaultKind, FaultSpec } from './faults.js';
export type { AssignmentView } from './rbac.js';
export type { PendingChange, PropagationSpec } from './rbac-propagation.js';
export { REALISTIC_RBAC_PROPAGATION } from './rbac-propagation.js';
export type { RecordedExchange } from './recorder.js';
export type { ThrottleSettings } from './throttle.js';

export interface ArmEmulatorOptions {
  /** The same certificate Azurite uses, so clients trust one CA. */
  readonly certificate: LocalCertificate;
  /** Shared with the local Durable host. */
  readonly clock: VirtualClock;
  /** Azurite blob endpoint (`https://127.0.0.1:port`) and the staging account pool. */
  readonly storage: { readonly blobEndpoint: string; readonly stagingAccounts: readonly string[] };
  readonly scenario?: Scenario;
  /** JSON lines of every exchange, tokens redacted. */
  readonly recordFile?: string;
  readonly port?: number;
  /** Overrides the scenario's rbacPropagationSeconds (tests pass 0). */
  readonly rbacPropagationSeconds?: PropagationSpec;
  /**
   * Keeps the state in this file (persistence.ts): restored from it when it exists (the scenario and
   * rbacPropagationSeconds then only name the subscription; they seed nothing), saved before every answer
   * and after every clock-driven change.
   */
  readonly stateFile?: string;
  /**
   * Accept `crash` faults, which kill this process with SIGKILL right after answering a call (crash tests
   * of `npm run local -- --state DIR`). Needs `stateFile`.
   */
  readonly crashFaults?: boolean;
}

export interface ImageTemplateView {
  readonly id: string;
  readonly name: string;
  readonly resourceGroup: string;
  readonly provisioningState: string;
  readonly lastRunStatus?: {
    runState: string;
    runSubState: string;
    message: string;
    startTime: string;
    endTime?: string;
  };
  readonly stagingResourceGroup: string;
  readonly stagingAccount: string;
  /** The run GUIDs, oldest first (log folders under packerlogs/). */
  readonly runs: readonly string[];
  readonly logUrls: readonly string[];
  readonly body: Json;
}

/** A role assignment as ARM shows it, with when it counts for authorization. */
export interface RoleAssignmentState extends AssignmentView {
  /** ISO time the assignment becomes effective (virtual clock); absent when it already is. */
  readonly effectiveAt?: string;
}

export interface RbacPropagationView {
  readonly propagationSeconds: PropagationSpec;
  /** Creations and deletions that do not yet count for authorization, soonest first. */
  readonly pending: readonly PendingChange[];
}

export interface ArmEmulatorState {
  resources(type?: string): Json[];
  roleAssignments(): RoleAssignmentState[];
  rbacPropagation(): RbacPropagationView;
  roleDefinitions(): Json[];
  identities(): Json[];
  imageTemplates(): ImageTemplateView[];
  imageTemplate(name: string): ImageTemplateView | undefined;
  images(): Json[];
  galleryImageVersions(): Json[];
  marketplaceVersions(publisher: string, offer: string, sku: string): string[];
  /** Every ARM exchange so far (control calls excluded). */
  requests(): readonly RecordedExchange[];
  /** Failures writing logs to Azurite (should stay empty). */
  logWriteErrors(): readonly string[];
}

export interface ArmEmulatorControl {
  publishImageVersion(image: { publisher: string; offer: string; sku: string; version: string }): string[];
  injectFault(spec: FaultSpec): ActiveFault;
  faults(): readonly ActiveFault[];
  clearFaults(): void;
  setBuildBehaviour(b: {
    phaseDurations?: Partial<PhaseDurations>;
    outcome?: BuildBehaviour['outcome'];
    logBytes?: number;
    findings?: BuildBehaviour['findings'];
  }): BuildBehaviour;
  setThrottling(t: Partial<ThrottleSettings>): ThrottleSettings;
  setTiming(t: Partial<TimingSettings>): TimingSettings;
  /** Holds new image template creations in Creating (true) or releases the held ones (false). */
  holdTemplateCreation(hold: boolean): { hold: boolean; held: string[] };
  /** Changes the propagation delay of later role assignment changes (pending ones keep their times). */
  setRbacPropagation(spec: PropagationSpec): PropagationSpec;
  seed(scenario: Partial<Scenario>): void;
  addPrincipal(objectId: string): void;
  /** Authorize every ARM call against the caller's role assignments (off by default). */
  setCallerAuthorization(enabled: boolean): void;
  advanceClock(seconds: number): void;
  advanceClockTo(ms: number): void;
  setTimeScale(scale: number | undefined): void;
  /** Back to the start: scenario re-seeded, behaviour, faults, throttling, recordings reset. */
  reset(): void;
}

export interface ClockView {
  readonly now: string;
  readonly nowMs: number;
  readonly scale: number | null;
}

export interface ArmEmulator {
  readonly armEndpoint: string;
  readonly controlEndpoint: string;
  readonly subscriptionId: string;
  readonly tenantId: string;
  readonly caCertPath: string;
  readonly scenario: Scenario;
  readonly clock: VirtualClock;
  readonly state: ArmEmulatorState;
  readonly control: ArmEmulatorControl;
  stop(): Promise<void>;
}

function validateBehaviour(b: BuildBehaviour): BuildBehaviour {
  for (const [k, v] of Object.entries(b.phaseDurations)) {
    if (!Number.isFinite(v) || v < 0) throw new Error(`phaseDurations.${k} must be a number of seconds >= 0`);
  }
  if (!['success', 'customizer-failure', 'validation-failure', 'timeout'].includes(b.outcome)) {
    throw new Error('outcome must be success, customizer-failure, validation-failure or timeout');
  }
  if (!(SCAN_FINDINGS as readonly string[]).includes(b.findings)) {
    throw new Error(`findings must be ${SCAN_FINDINGS.join(' or ')}`);
  }
  if (!Number.isInteger(b.logBytes) || b.logBytes < 0)
    throw new Error('logBytes must be a whole number >= 0');
  return b;
}

export async function startArmEmulator(o: ArmEmulatorOptions): Promise<ArmEmulator> {
  const scenario = o.scenario ?? DEFAULT_SCENARIO;
  const aibCredential = new LocalTestCredential('a1b0c0de-0000-4000-8000-00000000a1b0');
  const storageClients = createAzureClients({
    subscriptionId: scenario.subscriptionId,
    caCert: { pem: o.certificate.cert },
    credential: aibCredential,
    maxRetries: 2,
  });
  const logs = new BuildLogWriter((url) => storageClients.blobService(url));
  const ctx = new EmulatorContext(
    scenario.subscriptionId,
    scenario.tenantId,
    scenario.location,
    o.clock,
    o.storage,
    logs,
  );
  const service = new ImageBuilderService(ctx);
  if (o.crashFaults && !o.stateFile) {
    throw new Error('crashFaults needs a stateFile: a crash would otherwise lose the emulated Azure');
  }
  const faults = new FaultInjector(o.crashFaults === true);
  const throttle = new SubscriptionThrottle(DEFAULT_THROTTLE);
  const recorder = new ExchangeRecorder(o.recordFile);

  const initialPropagation = validatePropagationSpec(
    o.rbacPropagationSeconds ?? scenario.rbacPropagationSeconds ?? 0,
  );
  const seedAll = () => {
    ctx.rbac.configure(initialPropagation, scenario.randomSeed ?? 1);
    ctx.registeredProviders.clear();
    for (const ns of DEFAULT_REGISTERED_PROVIDERS) ctx.registeredProviders.add(ns.toLowerCase());
    seedBuiltInRoles(ctx);
    applyScenario(ctx, scenario);
  };
  const parts = { ctx, service, faults, throttle };
  const stateFile = o.stateFile ? new EmulatorStateFile(o.stateFile) : undefined;
  const saved = stateFile?.load();
  if (saved) restoreEmulatorState(parts, saved);
  else seedAll();
  const persist = stateFile ? () => void stateFile.save(captureEmulatorState(parts)) : undefined;
  persist?.();
  /** Saves once the log writes a tick queued are done; a failed save is reported, not thrown. */
  let saveError: string | undefined;
  const persistSoon = () => {
    if (!persist) return;
    void logs.idle().then(() => {
      try {
        persist();
        saveError = undefined;
      } catch (e) {
        const message = `ARM emulator: saving the state to ${o.stateFile} failed: ${e instanceof Error ? e.message : String(e)}`;
        if (message !== saveError) process.stderr.write(`${message}\n`);
        saveError = message;
      }
    });
  };

  const tick = () => service.tick();
  const unsubscribe = o.clock.onAdvance(() => {
    tick();
    persistSoon();
  });
  const routes = [
    ...operationRoutes,
    ...tagRoutes,
    ...imageBuilderRoutes(service),
    ...authorizationRoutes,
    ...msiRoutes,
    ...networkRoutes,
    ...computeRoutes,
    ...storageRoutes,
    ...resourceRoutes,
  ];

  const templateView = (t: ReturnType<ImageBuilderService['records']>[number]): ImageTemplateView => {
    const body = service.view(t);
    const props = body.properties as Json;
    return {
      id: t.id,
      name: t.name,
      resourceGroup: t.resourceGroup,
      provisioningState: t.provisioningState,
      ...(props.lastRunStatus
        ? { lastRunStatus: props.lastRunStatus as ImageTemplateView['lastRunStatus'] }
        : {}),
      stagingResourceGroup: t.staging.resourceGroup,
      stagingAccount: t.staging.account,
      runs: t.runs.map((r) => r.guid),
      logUrls: t.runs.map((r) => service.logUrl(t, r, 'customization.log')),
      body,
    };
  };

  const state: ArmEmulatorState = {
    resources: (type) => (type ? ctx.store.list(type) : ctx.store.all()).map((r) => r.body),
    roleAssignments: () =>
      ctx.store.list(ROLE_ASSIGNMENT_TYPE).map((r) => {
        const at = ctx.rbac.effectiveAtMs(r.id);
        const view = assignmentView(ctx.store, r.id, r.body);
        return at !== undefined && at > ctx.now()
          ? { ...view, effectiveAt: new Date(at).toISOString() }
          : view;
      }),
    rbacPropagation: () => ({ propagationSeconds: ctx.rbac.current, pending: ctx.rbac.pending() }),
    roleDefinitions: () => ctx.store.list(ROLE_DEFINITION_TYPE).map((r) => r.body),
    identities: () => ctx.store.list(IDENTITY_TYPE).map((r) => r.body),
    imageTemplates: () => {
      tick();
      return service.records().map(templateView);
    },
    imageTemplate: (name) => {
      tick();
      const t = service.records().find((r) => r.name.toLowerCase() === name.toLowerCase());
      return t ? templateView(t) : undefined;
    },
    images: () => ctx.store.list(IMAGE_TYPE).map((r) => r.body),
    galleryImageVersions: () => ctx.store.list(GALLERY_IMAGE_VERSION_TYPE).map((r) => r.body),
    marketplaceVersions: (p, off, s) => [...(ctx.marketplace.get(ctx.marketplaceKey(p, off, s)) ?? [])],
    requests: () => recorder.all(),
    logWriteErrors: () => logs.errors(),
  };

  const control: ArmEmulatorControl = {
    publishImageVersion: (image) => publishMarketplaceVersion(ctx, image),
    injectFault: (spec) => faults.add(spec),
    faults: () => faults.list(),
    clearFaults: () => faults.clear(),
    setBuildBehaviour: (b) => {
      ctx.build = validateBehaviour({
        phaseDurations: { ...ctx.build.phaseDurations, ...(b.phaseDurations ?? {}) },
        outcome: b.outcome ?? ctx.build.outcome,
        logBytes: b.logBytes ?? ctx.build.logBytes,
        findings: b.findings ?? ctx.build.findings,
      });
      return ctx.build;
    },
    setThrottling: (t) => {
      throttle.configure(t);
      return throttle.current();
    },
    setTiming: (t) => {
      ctx.timing = { ...ctx.timing, ...t };
      return ctx.timing;
    },
    setRbacPropagation: (spec) => ctx.rbac.configure(spec),
    holdTemplateCreation: (hold) => service.setCreationHold(hold),
    seed: (s) => applyScenario(ctx, s),
    addPrincipal: (objectId) => {
      ctx.knownPrincipals.set(objectId.toLowerCase(), { createdAtMs: ctx.now() });
    },
    setCallerAuthorization: (enabled) => {
      ctx.callerAuthorization = enabled;
    },
    advanceClock: (seconds) => o.clock.advanceBy(seconds * 1000),
    advanceClockTo: (ms) => o.clock.advanceTo(ms),
    setTimeScale: (scale) => o.clock.setScale(scale),
    reset: () => {
      ctx.store.clear();
      ctx.operations.clear();
      ctx.rbac.clear();
      ctx.marketplace.clear();
      ctx.knownPrincipals.clear();
      service.clear();
      faults.clear();
      throttle.reset();
      recorder.clear();
      ctx.build = DEFAULT_BUILD_BEHAVIOUR;
      ctx.timing = DEFAULT_TIMING;
      ctx.callerAuthorization = false;
      seedAll();
    },
  };

  const clockView = (): ClockView => ({
    now: new Date(o.clock.now()).toISOString(),
    nowMs: o.clock.now(),
    scale: o.clock.scale ?? null,
  });

  const handler = createRequestHandler({
    ctx,
    routes,
    faults,
    throttle,
    recorder,
    tick,
    ...(persist ? { persist } : {}),
    ...(o.crashFaults
      ? {
          crash: () => {
            persist?.();
            process.kill(process.pid, 'SIGKILL');
          },
        }
      : {}),
    control: createControlHandler(control, state, clockView),
  });
  const server: Server = createServer({ cert: o.certificate.cert, key: o.certificate.key }, (req, res) => {
    handler(req, res).catch((e: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'InternalServerError', message: String(e), details: [] } }));
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const armEndpoint = `https://127.0.0.1:${port}`;
  ctx.baseUrl = armEndpoint;

  // In scaled mode time flows without clock events: catch up a few times per real second.
  const ticker = setInterval(() => {
    if (!o.clock.isManual) tick();
    // Also picks up changes made through `control` in this process, which no request saves.
    persistSoon();
  }, 200);
  ticker.unref();

  return {
    armEndpoint,
    controlEndpoint: `${armEndpoint}${CONTROL_PREFIX}`,
    subscriptionId: scenario.subscriptionId,
    tenantId: scenario.tenantId,
    caCertPath: o.certificate.certPath,
    scenario,
    clock: o.clock,
    state,
    control,
    async stop() {
      clearInterval(ticker);
      unsubscribe();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await logs.idle();
      persist?.();
    },
  };
}
