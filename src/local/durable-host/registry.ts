/** Registered functions as the host sees them: trigger kind plus the metadata that matters for routing. */
import type { CapturedRegistration, CoreBinding, CoreHandler } from './core-standin.js';

export type TriggerKind = 'http' | 'timer' | 'eventGrid' | 'orchestration' | 'activity' | 'entity' | 'other';

export type AuthLevel = 'anonymous' | 'function' | 'admin';

export interface ExtraInputInfo {
  readonly name: string;
  readonly type: string;
}

export interface RegisteredFunctionMetadata {
  readonly triggerType: string;
  readonly triggerBindingName: string;
  readonly route?: string | undefined;
  readonly methods?: readonly string[] | undefined;
  readonly authLevel?: AuthLevel | undefined;
  readonly schedule?: string | undefined;
  readonly runOnStartup?: boolean | undefined;
  readonly useMonitor?: boolean | undefined;
  readonly extraInputs: readonly ExtraInputInfo[];
  readonly bindings: Readonly<Record<string, CoreBinding>>;
}

export interface RegisteredFunction {
  readonly name: string;
  readonly trigger: TriggerKind;
  readonly metadata: RegisteredFunctionMetadata;
  readonly handler: CoreHandler;
}

const KIND_BY_TYPE: Record<string, TriggerKind> = {
  httptrigger: 'http',
  timertrigger: 'timer',
  eventgridtrigger: 'eventGrid',
  orchestrationtrigger: 'orchestration',
  activitytrigger: 'activity',
  entitytrigger: 'entity',
};

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function toRegisteredFunction(reg: CapturedRegistration): RegisteredFunction {
  const entries = Object.entries(reg.metadata.bindings);
  const triggerEntry = entries.find(
    ([, b]) => b.direction === 'in' && b.type.toLowerCase().endsWith('trigger'),
  );
  if (!triggerEntry) throw new Error(`Function "${reg.metadata.name}" has no trigger binding.`);
  const [triggerName, trigger] = triggerEntry;
  const kind = KIND_BY_TYPE[trigger.type.toLowerCase()] ?? 'other';
  const methods = Array.isArray(trigger.methods)
    ? (trigger.methods as unknown[]).map((m) => String(m).toUpperCase())
    : undefined;
  const authLevel = str(trigger.authLevel)?.toLowerCase() as AuthLevel | undefined;
  return {
    name: reg.metadata.name,
    trigger: kind,
    handler: reg.handler,
    metadata: {
      triggerType: trigger.type,
      triggerBindingName: triggerName,
      route: kind === 'http' ? (str(trigger.route) ?? reg.metadata.name) : undefined,
      methods: kind === 'http' ? methods : undefined,
      authLevel: kind === 'http' ? (authLevel ?? 'anonymous') : undefined,
      schedule: str(trigger.schedule),
      runOnStartup: typeof trigger.runOnStartup === 'boolean' ? trigger.runOnStartup : undefined,
      useMonitor: typeof trigger.useMonitor === 'boolean' ? trigger.useMonitor : undefined,
      extraInputs: entries
        .filter(([n, b]) => n !== triggerName && b.direction === 'in')
        .map(([n, b]) => ({ name: n, type: b.type })),
      bindings: reg.metadata.bindings,
    },
  };
}
