/**
 * Local Durable Functions host — for tests, the local simulation and benchmarks, never for production.
 *
 * Loads the app's registration modules under a stand-in `@azure/functions-core`, then runs orchestrations
 * with real replay (history events, the extension's sequence numbering and non-determinism checks),
 * activities through their registered handlers, durable timers and timer triggers on a shared VirtualClock,
 * the durable client API (RPC + webhook routes) and the app's HTTP functions on 127.0.0.1.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { VirtualClock } from '../clock.js';
import { durableClientBindingData } from './client-binding.js';
import { capturedRegistrations, installCoreStandIn, setCoreLogger } from './core-standin.js';
import { DurableEngine, type EpisodeInfo, type InstanceQuery, type InstanceStatus } from './engine.js';
import type { HistoryEvent } from './history.js';
import { findHostJson, readHostSettings } from './host-json.js';
import { startHttpFront } from './http-front.js';
import { InstanceStore, isTerminal } from './instance-store.js';
import { type InvocationLog, invokeRegisteredFunction, toTypedJson } from './invoke.js';
import { validateHostOptions, validateTaskHub } from './options.js';
import { type RegisteredFunction, toRegisteredFunction } from './registry.js';
import { resolveAppSettingReference } from './schedule.js';
import { TimerTriggerScheduler } from './timer-triggers.js';

export type { EpisodeInfo, InstanceQuery, InstanceStatus } from './engine.js';
export type { FailureDetails, HistoryEvent } from './history.js';
export { EventType, eventTypeName } from './history.js';
export type { RuntimeStatus } from './instance-store.js';
export type { RegisteredFunction, RegisteredFunctionMetadata, TriggerKind } from './registry.js';

export interface LocalDurableHostOptions {
  /** Absolute file paths of the app's registration modules (e.g. src/functions/index.ts). */
  readonly entryModules: readonly string[];
  /** Shared clock; manual mode jumps to the next due timer when idle, scaled mode uses real timeouts. */
  readonly clock: VirtualClock;
  /** Key for `function`/`admin` auth levels and the durable webhooks (default: random). */
  readonly functionKey?: string;
  /** Port of the HTTP front on 127.0.0.1 (0 or absent = a free port). */
  readonly port?: number;
  /** Directory for instance state (crash/resume); default: a new temp dir. */
  readonly stateDir?: string;
  /** App settings applied to process.env before the app's modules load. */
  readonly env?: Record<string, string>;
  /** Parallel activity executions (default: host.json maxConcurrentActivityFunctions, else 10). */
  readonly activityConcurrency?: number;
  /** Task hub name (default: host.json hubName with %SETTING% resolved, else "LocalTaskHub"). */
  readonly taskHub?: string;
  /** host.json to read (default: the nearest one above the first entry module). */
  readonly hostJsonPath?: string;
  /** Called after every committed episode (tests use it to stop between episodes). */
  readonly onEpisode?: (info: EpisodeInfo) => void;
  /** Receives function and host logs (default: dropped unless LOCAL_DURABLE_HOST_LOG=1). */
  readonly log?: InvocationLog;
}

export interface LocalDurableHost {
  readonly baseUrl: string;
  readonly functionKey: string;
  readonly taskHub: string;
  readonly stateDir: string;
  readonly functions: ReadonlyMap<string, RegisteredFunction>;
  startOrchestration(name: string, input?: unknown, instanceId?: string): Promise<string>;
  getStatus(instanceId: string, opts?: { showHistory?: boolean }): Promise<InstanceStatus | undefined>;
  listInstances(query?: InstanceQuery): Promise<InstanceStatus[]>;
  /** Drives work (and virtual time in manual mode) until the instance reaches a terminal status. */
  waitForInstance(instanceId: string, opts?: { timeoutMs?: number }): Promise<InstanceStatus>;
  /** Runs until nothing is due; in manual mode advances the clock to the next durable timer while any waits. */
  runUntilIdle(): Promise<void>;
  /** Runs episodes and activities until nothing is runnable, without moving the clock. */
  settle(): Promise<void>;
  raiseEvent(instanceId: string, name: string, data?: unknown): Promise<void>;
  terminate(instanceId: string, reason?: string): Promise<void>;
  purge(instanceId: string): Promise<boolean>;
  history(instanceId: string): readonly HistoryEvent[];
  fireTimerTrigger(functionName: string): Promise<void>;
  invokeEventGrid(functionName: string, event: unknown): Promise<void>;
  stop(): Promise<void>;
}

const DEFAULT_WAIT_MS = 30_000;

function defaultLog(): InvocationLog {
  if (process.env.LOCAL_DURABLE_HOST_LOG === '1') {
    return (fn, level, category, message) => console.error(`[${fn}] ${level}/${category}: ${message}`);
  }
  return () => {};
}

function requireFunction(
  functions: ReadonlyMap<string, RegisteredFunction>,
  name: string,
  kind: RegisteredFunction['trigger'],
): RegisteredFunction {
  const fn = functions.get(name);
  if (!fn || fn.trigger !== kind) {
    const names = [...functions.values()].filter((f) => f.trigger === kind).map((f) => f.name);
    throw new Error(
      `functionName: "${name}" is not a registered ${kind} function; registered: ${names.join(', ') || '(none)'}.`,
    );
  }
  return fn;
}

const EVENT_GRID_FIELDS = ['id', 'eventType', 'subject', 'eventTime', 'data', 'dataVersion'] as const;

export async function startLocalDurableHost(o: LocalDurableHostOptions): Promise<LocalDurableHost> {
  validateHostOptions(o);
  installCoreStandIn();
  for (const [k, v] of Object.entries(o.env ?? {})) process.env[k] = v;
  const log = o.log ?? defaultLog();
  setCoreLogger((level, category, message) => log('worker', level, category, message));

  for (const path of o.entryModules) await import(pathToFileURL(path).href);
  if (capturedRegistrations().size === 0) {
    throw new Error(
      'entryModules: no function was registered. Either the modules register nothing, or @azure/functions was loaded before the host and cached "no worker" (test mode): import src/local/durable-host before any registration module.',
    );
  }
  const functions = new Map<string, RegisteredFunction>();
  for (const reg of capturedRegistrations().values())
    functions.set(reg.metadata.name, toRegisteredFunction(reg));

  const settings = readHostSettings(o.hostJsonPath ?? findHostJson(dirname(o.entryModules[0]!)));
  const taskHub = o.taskHub
    ? validateTaskHub(o.taskHub, 'taskHub')
    : settings.hubName
      ? validateTaskHub(
          resolveAppSettingReference(settings.hubName, process.env, 'host.json hubName'),
          'host.json hubName',
        )
      : 'LocalTaskHub';
  const functionKey = o.functionKey ?? randomBytes(24).toString('base64url');
  const stateDir = o.stateDir ?? mkdtempSync(join(tmpdir(), 'local-durable-host-'));
  const clock = o.clock;

  const store = new InstanceStore(stateDir, taskHub);
  const engine = new DurableEngine({
    clock,
    store,
    functions,
    activityConcurrency: o.activityConcurrency ?? settings.maxConcurrentActivityFunctions,
    maximumShortTimerMs: settings.maximumShortTimerMs,
    longRunningTimerIntervalMs: settings.longRunningTimerIntervalMs,
    functionTimeoutMs: settings.functionTimeoutMs,
    overridableExistingInstanceStates: settings.overridableExistingInstanceStates,
    log,
    onEpisode: o.onEpisode,
  });

  let origin = '';
  const binding = () => durableClientBindingData(origin, taskHub, functionKey);
  let invokeNonHttp: (name: string, input: string | undefined) => Promise<void> = async () => {};
  const front = await startHttpFront({
    port: o.port ?? 0,
    routePrefix: settings.routePrefix,
    functionKey,
    functions,
    engine,
    binding,
    log,
    invokeNonHttp: (name, input) => invokeNonHttp(name, input),
  });
  origin = front.origin;
  // The durable client rewrites its URLs to localhost:7071 unless the host says where it runs.
  if (!process.env.WEBSITE_HOSTNAME) process.env.WEBSITE_HOSTNAME = origin.replace(/^https?:\/\//, '');

  let triggerSeq = 0;
  const runTrigger = (fn: RegisteredFunction, payload: unknown): Promise<void> => {
    const work = invokeRegisteredFunction(fn, {
      trigger: toTypedJson(payload),
      extraInputsByType: { durableClient: binding() },
      log,
    }).then(() => undefined);
    engine.track(
      `trigger|${fn.name}|${triggerSeq++}`,
      work.catch(() => undefined),
    );
    return work;
  };
  const timers = new TimerTriggerScheduler(clock, functions.values(), ({ fn, timer }) => {
    runTrigger(fn, timer).catch((err: unknown) => log(fn.name, 'error', 'host', String(err)));
  });
  invokeNonHttp = async (name, input) => {
    const fn = functions.get(name)!;
    if (fn.trigger === 'timer') await host.fireTimerTrigger(name);
    else if (fn.trigger === 'eventGrid') await host.invokeEventGrid(name, JSON.parse(input ?? 'null'));
    else
      throw new Error(
        `${name}: only timer and Event Grid functions can be run through the admin route here.`,
      );
  };
  const unsubscribeClock = clock.onAdvance(() => engine.kick());
  // Real-time pulse for scaled mode (the clock may switch modes at run time): due timers and triggers.
  const scaledTick = setInterval(() => {
    if (clock.isManual) return;
    engine.kick();
    timers.check();
  }, 100);
  scaledTick.unref();
  timers.start();
  engine.start();

  const advanceOrWait = async (deadline: number): Promise<boolean> => {
    const next = engine.nextTimerDue();
    if (next !== undefined && clock.isManual) {
      clock.advanceTo(next);
      return true;
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) return false;
    const delay = next !== undefined ? Math.min(clock.realDelayUntil(next), remaining) : remaining;
    await new Promise<void>((resolve) => {
      const t = setTimeout(done, Math.max(1, delay));
      const off = engine.onChange(done);
      function done() {
        clearTimeout(t);
        off();
        resolve();
      }
    });
    return true;
  };

  const host: LocalDurableHost = {
    baseUrl: origin,
    functionKey,
    taskHub,
    stateDir,
    functions,
    async startOrchestration(name, input, instanceId) {
      const id = engine.startOrchestration(name, input, instanceId);
      return id;
    },
    async getStatus(instanceId, opts) {
      return engine.getStatus(instanceId, { showHistory: opts?.showHistory ?? false });
    },
    async listInstances(query) {
      return engine.list(query ?? {});
    },
    async waitForInstance(instanceId, opts) {
      const deadline = Date.now() + (opts?.timeoutMs ?? DEFAULT_WAIT_MS);
      for (;;) {
        await engine.settle();
        const status = engine.getStatus(instanceId);
        if (!status)
          throw new Error(`instanceId: no instance "${instanceId}" exists in task hub "${taskHub}".`);
        if (isTerminal(status.runtimeStatus)) return status;
        if (engine.isStopping || Date.now() > deadline || !(await advanceOrWait(deadline))) {
          throw new Error(
            `Instance "${instanceId}" is still ${status.runtimeStatus} after ${opts?.timeoutMs ?? DEFAULT_WAIT_MS} ms (real time); it may be waiting for an external event.`,
          );
        }
      }
    },
    async runUntilIdle() {
      for (;;) {
        await engine.settle();
        const next = engine.nextTimerDue();
        if (next === undefined || engine.isStopping) return;
        if (clock.isManual) clock.advanceTo(next);
        else await new Promise((r) => setTimeout(r, Math.max(1, clock.realDelayUntil(next))));
      }
    },
    settle: () => engine.settle(),
    async raiseEvent(instanceId, name, data) {
      engine.raiseEvent(instanceId, name, data);
    },
    async terminate(instanceId, reason) {
      engine.terminate(instanceId, reason);
    },
    async purge(instanceId) {
      return engine.purge(instanceId);
    },
    history(instanceId) {
      return engine.history(instanceId);
    },
    async fireTimerTrigger(functionName) {
      const fn = requireFunction(functions, functionName, 'timer');
      await runTrigger(fn, timers.manualFire(fn).timer);
    },
    async invokeEventGrid(functionName, event) {
      const fn = requireFunction(functions, functionName, 'eventGrid');
      const e = event as Record<string, unknown> | null;
      const missing = EVENT_GRID_FIELDS.filter(
        (f) => e === null || typeof e !== 'object' || e[f] === undefined,
      );
      if (missing.length > 0) {
        throw new Error(
          `event: missing Event Grid schema field(s) ${missing.join(', ')}; send an Event Grid-schema event.`,
        );
      }
      await runTrigger(fn, event);
    },
    async stop() {
      timers.stop();
      unsubscribeClock();
      clearInterval(scaledTick);
      await engine.stop();
      await front.close();
      store.close();
    },
  };
  return host;
}
