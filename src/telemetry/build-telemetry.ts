/**
 * Telemetry of one finished build, emitted through the OpenTelemetry API when its terminal record is
 * written (src/records/build-records.ts): so every way a build ends (the orchestration, or the janitor
 * closing an abandoned record) is counted once per terminal write.
 *
 * - metrics (Application Insights: customMetrics / AppMetrics): `jumpbox.build.completed` (count),
 *   `jumpbox.build.duration`, `jumpbox.build.phase.duration`, `jumpbox.build.grant.lifetime` (seconds),
 *   `jumpbox.build.polls`, each with the definition, result and trigger as dimensions;
 * - one span per build (Application Insights: requests / AppRequests) named `build <definition>`, from
 *   the request to the end, with an event per phase, status ERROR unless it succeeded, and the build id
 *   as `jumpbox.build.id` — the key that correlates it with the logs and the build record.
 *
 * Without a registered OpenTelemetry SDK (tests, local tools) the API is a no-op. Nothing here throws:
 * telemetry must never fail a build.
 */
import {
  type Attributes,
  type Meter,
  metrics,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';

export const TELEMETRY_SCOPE = 'jumpbox-image-builder';

export const METRIC = {
  completed: 'jumpbox.build.completed',
  duration: 'jumpbox.build.duration',
  phaseDuration: 'jumpbox.build.phase.duration',
  grantLifetime: 'jumpbox.build.grant.lifetime',
  polls: 'jumpbox.build.polls',
} as const;

/** The fields of a terminal build record that telemetry reads (structurally a subset of BuildRecord). */
export interface FinishedBuild {
  readonly buildId: string;
  readonly definition: string;
  readonly status: string;
  readonly trigger?: string | undefined;
  readonly requestedAt: string;
  readonly startedAt?: string | undefined;
  readonly finishedAt?: string | undefined;
  readonly durationSeconds?: number | undefined;
  readonly runDurationSeconds?: number | undefined;
  readonly phaseTimestamps: Readonly<Record<string, string>>;
  readonly imageId?: string | undefined;
  readonly templateName?: string | undefined;
  readonly error?: { readonly code: string; readonly message: string } | undefined;
  readonly upToDate?: boolean | undefined;
  readonly grantSeconds?: number | undefined;
  readonly grantPropagationSeconds?: number | undefined;
  readonly grantRefusals?: number | undefined;
  readonly polls?: number | undefined;
  readonly logUrls?: readonly string[] | undefined;
}

/** Seconds spent in each phase: from its start to the next phase's start (the last one ends at `end`). */
export function phaseDurations(
  timestamps: Readonly<Record<string, string>>,
  end?: string | undefined,
): Record<string, number> {
  const starts = Object.entries(timestamps)
    .map(([phase, at]) => ({ phase, ms: Date.parse(at) }))
    .filter((p) => Number.isFinite(p.ms))
    .sort((a, b) => a.ms - b.ms);
  const endMs = end !== undefined ? Date.parse(end) : Number.NaN;
  const out: Record<string, number> = {};
  starts.forEach((p, i) => {
    const next = starts[i + 1]?.ms ?? endMs;
    if (p.phase === 'done' || !Number.isFinite(next)) return;
    out[p.phase] = (out[p.phase] ?? 0) + Math.max(0, (next - p.ms) / 1000);
  });
  return out;
}

export interface TelemetryTargets {
  readonly meter?: Meter;
  readonly tracer?: Tracer;
}

interface Instruments {
  readonly meter: Meter;
  readonly completed: ReturnType<Meter['createCounter']>;
  readonly duration: ReturnType<Meter['createHistogram']>;
  readonly phase: ReturnType<Meter['createHistogram']>;
  readonly grant: ReturnType<Meter['createHistogram']>;
  readonly polls: ReturnType<Meter['createHistogram']>;
}

let cached: Instruments | undefined;

function instruments(meter: Meter): Instruments {
  if (cached && cached.meter === meter) return cached;
  cached = {
    meter,
    completed: meter.createCounter(METRIC.completed, { description: 'Builds that reached a terminal state' }),
    duration: meter.createHistogram(METRIC.duration, {
      description: 'Build duration, request to end',
      unit: 's',
    }),
    phase: meter.createHistogram(METRIC.phaseDuration, {
      description: 'Time spent in one build phase',
      unit: 's',
    }),
    grant: meter.createHistogram(METRIC.grantLifetime, {
      description: 'Seconds the just-in-time Image Contributor grant existed',
      unit: 's',
    }),
    polls: meter.createHistogram(METRIC.polls, { description: 'Image Builder status polls of one build' }),
  };
  return cached;
}

/** The build's common dimensions (low cardinality: no build id on metrics). */
function dimensions(b: FinishedBuild): Attributes {
  return {
    'jumpbox.definition': b.definition,
    'jumpbox.build.result': b.status,
    'jumpbox.build.trigger': b.trigger ?? 'unknown',
    'jumpbox.build.up_to_date': b.upToDate === true,
  };
}

function time(iso: string | undefined): Date | undefined {
  if (!iso) return undefined;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** Emits the metrics and the span of one finished build. Never throws. */
export function emitBuildTelemetry(build: FinishedBuild, targets: TelemetryTargets = {}): void {
  try {
    const meter = targets.meter ?? metrics.getMeter(TELEMETRY_SCOPE);
    const tracer = targets.tracer ?? trace.getTracer(TELEMETRY_SCOPE);
    const dims = dimensions(build);
    const m = instruments(meter);
    m.completed.add(1, dims);
    const start = time(build.startedAt) ?? time(build.requestedAt);
    const end = time(build.finishedAt);
    const duration =
      build.durationSeconds ??
      (start && end ? Math.max(0, (end.getTime() - start.getTime()) / 1000) : undefined);
    if (duration !== undefined) m.duration.record(duration, dims);
    const phases = phaseDurations(build.phaseTimestamps, build.finishedAt);
    for (const [phase, seconds] of Object.entries(phases)) {
      m.phase.record(seconds, { ...dims, 'jumpbox.build.phase': phase });
    }
    if (build.grantSeconds !== undefined) m.grant.record(build.grantSeconds, dims);
    if (build.polls !== undefined) m.polls.record(build.polls, dims);

    const attributes: Attributes = {
      ...dims,
      'jumpbox.build.id': build.buildId,
      ...(duration !== undefined ? { 'jumpbox.build.duration_s': duration } : {}),
      ...(build.runDurationSeconds !== undefined
        ? { 'jumpbox.build.run_duration_s': build.runDurationSeconds }
        : {}),
      ...(build.grantSeconds !== undefined ? { 'jumpbox.build.grant_s': build.grantSeconds } : {}),
      ...(build.grantPropagationSeconds !== undefined
        ? { 'jumpbox.build.grant_propagation_s': build.grantPropagationSeconds }
        : {}),
      ...(build.grantRefusals !== undefined ? { 'jumpbox.build.grant_refusals': build.grantRefusals } : {}),
      ...(build.polls !== undefined ? { 'jumpbox.build.polls': build.polls } : {}),
      ...(build.imageId ? { 'jumpbox.image.id': build.imageId } : {}),
      ...(build.templateName ? { 'jumpbox.template.name': build.templateName } : {}),
      ...(build.error ? { 'error.type': build.error.code } : {}),
      ...(build.logUrls && build.logUrls.length > 0 ? { 'jumpbox.build.logs': build.logUrls.join(' ') } : {}),
    };
    for (const [phase, seconds] of Object.entries(phases)) attributes[`jumpbox.phase.${phase}_s`] = seconds;
    const span = tracer.startSpan(`build ${build.definition}`, {
      kind: SpanKind.SERVER,
      attributes,
      ...(start ? { startTime: start } : {}),
    });
    for (const [phase, at] of Object.entries(build.phaseTimestamps)) {
      const t = time(at);
      if (t) span.addEvent(`phase ${phase}`, { 'jumpbox.build.phase': phase }, t);
    }
    if (build.status === 'Succeeded') span.setStatus({ code: SpanStatusCode.OK });
    else
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: build.error ? `${build.error.code}: ${build.error.message}`.slice(0, 1000) : build.status,
      });
    span.end(end ?? undefined);
  } catch {
    // Telemetry must never fail a build or a record write.
  }
}

export const JANITOR_METRIC = 'jumpbox.janitor.sweeps';

/**
 * One janitor sweep: `clean` (no grant left: nothing to remove or all removed), `skipped` (a build runs,
 * the grant stays legitimately), `failed` (the sweep threw: a grant may still be present). `removed` > 0
 * on a clean sweep means a build's own revoke had failed earlier. Never throws.
 */
export function emitJanitorTelemetry(
  sweep: {
    readonly outcome: 'clean' | 'skipped' | 'failed';
    readonly removed: number;
    readonly error?: string;
  },
  targets: Pick<TelemetryTargets, 'meter'> = {},
): void {
  try {
    const meter = targets.meter ?? metrics.getMeter(TELEMETRY_SCOPE);
    meter
      .createCounter(JANITOR_METRIC, {
        description: 'Janitor sweeps of Image Contributor grants, by outcome',
      })
      .add(1, {
        'jumpbox.janitor.outcome': sweep.outcome,
        'jumpbox.janitor.removed': sweep.removed,
        ...(sweep.error ? { 'error.type': sweep.error.slice(0, 100) } : {}),
      });
  } catch {
    // Telemetry must never fail the janitor.
  }
}

export const FRESHNESS_METRIC = 'jumpbox.definition.days_since_success';

/**
 * Days since each definition's last successful build, recorded at every janitor run, so that a "no
 * successful build in 35 days" alert needs only a short query window (log alerts cannot look back 35
 * days). A definition that never succeeded is recorded as -1 with `jumpbox.never_succeeded`. Never throws.
 */
export async function emitFreshness(
  definitions: readonly string[],
  lastSuccess: (
    definition: string,
  ) => Promise<{ readonly finishedAt?: string; readonly requestedAt: string } | undefined>,
  now: Date,
  targets: Pick<TelemetryTargets, 'meter'> = {},
): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  try {
    const meter = targets.meter ?? metrics.getMeter(TELEMETRY_SCOPE);
    // A gauge (histograms drop negative values): the last value per definition.
    const gauge = meter.createGauge(FRESHNESS_METRIC, {
      description: "Days since the definition's last successful build (-1: never)",
      unit: 'd',
    });
    for (const definition of definitions) {
      const last = await lastSuccess(definition);
      const at = last ? Date.parse(last.finishedAt ?? last.requestedAt) : Number.NaN;
      const days = Number.isFinite(at) ? Math.max(0, (now.getTime() - at) / 86_400_000) : -1;
      out[definition] = days;
      gauge.record(days, { 'jumpbox.definition': definition, 'jumpbox.never_succeeded': days < 0 });
    }
  } catch {
    // Telemetry must never fail the janitor.
  }
  return out;
}
