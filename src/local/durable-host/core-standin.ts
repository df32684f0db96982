/**
 * A stand-in for the Functions worker's `@azure/functions-core` module.
 *
 * `@azure/functions` loads that module lazily with `require('@azure/functions-core')` the first time the app
 * registers a function. Installing this stand-in before the app's modules load makes every registration —
 * `app.http`, `app.timer`, `app.eventGrid` and all of `df.app.*` — land in a process-wide registry with its
 * metadata (bindings) and its real handler, and captures the programming model that the real worker uses to
 * turn invocation data into handler arguments.
 */
import Module from 'node:module';

/** Binding metadata as `@azure/functions` sends it to the worker (`toCoreFunctionMetadata`). */
export interface CoreBinding {
  readonly type: string;
  readonly direction: 'in' | 'out';
  readonly [key: string]: unknown;
}

export interface CoreFunctionMetadata {
  readonly name: string;
  readonly bindings: Readonly<Record<string, CoreBinding>>;
  readonly retryOptions?: unknown;
}

export type CoreHandler = (...args: unknown[]) => unknown;

/** The subset of the programming model / invocation model the host drives (as the real worker does). */
export interface CoreInvocationModel {
  getArguments(): Promise<{ context: unknown; inputs: unknown[] }>;
  invokeFunction(context: unknown, inputs: unknown[], handler: CoreHandler): Promise<unknown>;
  getResponse(context: unknown, result: unknown): Promise<{ returnValue?: unknown; outputData?: unknown[] }>;
}
export interface CoreProgrammingModel {
  readonly name: string;
  readonly version: string;
  getInvocationModel(coreCtx: unknown): CoreInvocationModel;
}

export interface CapturedRegistration {
  readonly metadata: CoreFunctionMetadata;
  readonly handler: CoreHandler;
}

export type CoreLogger = (level: string, category: string, message: string) => void;

interface CoreState {
  readonly registrations: Map<string, CapturedRegistration>;
  programmingModel: CoreProgrammingModel | undefined;
  logger: CoreLogger;
  readonly hooks: Map<string, Array<(ctx: unknown) => unknown>>;
}

const STATE_KEY = Symbol.for('jumpbox.localDurableHost.coreState');
const CORE_MODULE = '@azure/functions-core';
const CORE_FILENAME = '/__local-durable-host__/@azure/functions-core.js';

function state(): CoreState {
  const g = globalThis as unknown as Record<symbol, CoreState | undefined>;
  let s = g[STATE_KEY];
  if (!s) {
    s = { registrations: new Map(), programmingModel: undefined, logger: () => {}, hooks: new Map() };
    g[STATE_KEY] = s;
  }
  return s;
}

function createCoreApi() {
  return {
    version: 'local-durable-host',
    registerFunction(metadata: CoreFunctionMetadata, handler: CoreHandler) {
      const s = state();
      if (s.registrations.has(metadata.name)) {
        throw new Error(
          `A function named "${metadata.name}" is already registered; function names must be unique.`,
        );
      }
      s.registrations.set(metadata.name, { metadata, handler });
      return { dispose: () => s.registrations.delete(metadata.name) };
    },
    setProgrammingModel(model: CoreProgrammingModel) {
      state().programmingModel = model;
    },
    getProgrammingModel() {
      return state().programmingModel;
    },
    registerHook(hookName: string, callback: (ctx: unknown) => unknown) {
      const hooks = state().hooks;
      const list = hooks.get(hookName) ?? [];
      list.push(callback);
      hooks.set(hookName, list);
      return { dispose: () => list.splice(list.indexOf(callback), 1) };
    },
    log(level: string, category: string, message: string) {
      state().logger(level, category, message);
    },
  };
}

let installed = false;

/** Makes `require('@azure/functions-core')` resolve to the stand-in. Idempotent. */
export function installCoreStandIn(): void {
  if (installed) return;
  installed = true;
  const mod = Module as unknown as {
    _resolveFilename: (request: string, ...rest: unknown[]) => string;
    _cache: Record<string, unknown>;
  };
  const standIn = new Module(CORE_FILENAME);
  standIn.filename = CORE_FILENAME;
  standIn.loaded = true;
  standIn.exports = createCoreApi();
  mod._cache[CORE_FILENAME] = standIn;
  const original = mod._resolveFilename;
  mod._resolveFilename = function resolveWithCoreStandIn(request: string, ...rest: unknown[]) {
    if (request === CORE_MODULE) return CORE_FILENAME;
    return original.call(this, request, ...rest);
  };
}

export function capturedRegistrations(): ReadonlyMap<string, CapturedRegistration> {
  return state().registrations;
}

export function programmingModel(): CoreProgrammingModel {
  const model = state().programmingModel;
  if (!model) {
    throw new Error(
      'No programming model was registered: the entry modules registered no function through @azure/functions.',
    );
  }
  return model;
}

export function setCoreLogger(logger: CoreLogger): void {
  state().logger = logger;
}

// Installed on import so that nothing in this process can cache "no worker" before the host starts.
installCoreStandIn();
