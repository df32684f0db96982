/**
 * Build telemetry (src/telemetry/build-telemetry.ts) into in-memory OpenTelemetry exporters: the unit
 * shape, and a whole simulated build (real orchestration on the local Durable host, ARM emulator, Azurite)
 * whose terminal record write emits its metrics and span, correlated by the build id.
 */
import { metrics, trace } from '@opentelemetry/api';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSimulation } from '../../src/cli/commands/simulate.js';
import {
  emitBuildTelemetry,
  emitFreshness,
  emitJanitorTelemetry,
  FRESHNESS_METRIC,
  JANITOR_METRIC,
  METRIC,
  phaseDurations,
} from '../../src/telemetry/build-telemetry.js';

function providers() {
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({
    exporter: metricExporter,
    exportIntervalMillis: 3_600_000,
  });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const spanExporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spanExporter)] });
  const collect = async () => {
    await reader.forceFlush();
    return metricExporter.getMetrics();
  };
  return { meterProvider, tracerProvider, spanExporter, collect };
}

/** Data points of one metric across the exported batches (the last batch is cumulative). */
function points(batches: ResourceMetrics[], name: string) {
  const last = batches.at(-1);
  return (last?.scopeMetrics ?? [])
    .flatMap((s) => s.metrics)
    .filter((m) => m.descriptor.name === name)
    .flatMap((m) => m.dataPoints as { attributes: Record<string, unknown>; value: unknown }[]);
}

describe('build telemetry', () => {
  it('phase durations run from one phase start to the next; the last ends at the finish', () => {
    expect(
      phaseDurations(
        {
          preflight: '2026-01-01T00:00:00Z',
          grant: '2026-01-01T00:01:00Z',
          polling: '2026-01-01T00:02:30Z',
          done: '2026-01-01T00:40:00Z',
        },
        '2026-01-01T00:40:00Z',
      ),
    ).toEqual({ preflight: 60, grant: 90, polling: 2250 });
  });

  it('emits a count, durations, grant lifetime and polls with low-cardinality dimensions, and a span with the build id', async () => {
    const p = providers();
    emitBuildTelemetry(
      {
        buildId: 'aks-jumpbox.20260101T000000Z.0000abcd',
        definition: 'aks-jumpbox',
        status: 'Failed',
        trigger: 'http',
        requestedAt: '2026-01-01T00:00:00Z',
        startedAt: '2026-01-01T00:00:00Z',
        finishedAt: '2026-01-01T00:30:00Z',
        durationSeconds: 1800,
        phaseTimestamps: { preflight: '2026-01-01T00:00:00Z', polling: '2026-01-01T00:05:00Z' },
        error: { code: 'RunFailed', message: 'Customizing: exit 1' },
        grantSeconds: 1500,
        polls: 12,
        logUrls: ['https://st.blob.core.windows.net/build-logs/a/customization.log'],
      },
      { meter: p.meterProvider.getMeter('t'), tracer: p.tracerProvider.getTracer('t') },
    );
    const batches = await p.collect();
    const completed = points(batches, METRIC.completed);
    expect(completed).toHaveLength(1);
    expect(completed[0]!.value).toBe(1);
    expect(completed[0]!.attributes).toEqual({
      'jumpbox.definition': 'aks-jumpbox',
      'jumpbox.build.result': 'Failed',
      'jumpbox.build.trigger': 'http',
      'jumpbox.build.up_to_date': false,
    });
    expect((points(batches, METRIC.duration)[0]!.value as { sum: number }).sum).toBe(1800);
    expect((points(batches, METRIC.grantLifetime)[0]!.value as { sum: number }).sum).toBe(1500);
    expect((points(batches, METRIC.polls)[0]!.value as { sum: number }).sum).toBe(12);
    const phases = points(batches, METRIC.phaseDuration).map((d) => [
      d.attributes['jumpbox.build.phase'],
      (d.value as { sum: number }).sum,
    ]);
    expect(Object.fromEntries(phases)).toEqual({ preflight: 300, polling: 1500 });
    // No build id on metrics (cardinality); the span carries it.
    for (const d of completed) expect(d.attributes['jumpbox.build.id']).toBeUndefined();
    const [span] = p.spanExporter.getFinishedSpans();
    expect(span?.name).toBe('build aks-jumpbox');
    expect(span?.attributes['jumpbox.build.id']).toBe('aks-jumpbox.20260101T000000Z.0000abcd');
    expect(span?.attributes['error.type']).toBe('RunFailed');
    expect(span?.status.code).toBe(2); // ERROR
    expect(span?.events.map((e) => e.name)).toEqual(['phase preflight', 'phase polling']);
  });

  it('never throws, even for a record with unparseable times', () => {
    const p = providers();
    expect(() =>
      emitBuildTelemetry(
        {
          buildId: 'b',
          definition: 'd',
          status: 'Succeeded',
          requestedAt: 'not a date',
          phaseTimestamps: { x: 'bad' },
        },
        { meter: p.meterProvider.getMeter('t'), tracer: p.tracerProvider.getTracer('t') },
      ),
    ).not.toThrow();
  });
});

describe('janitor and freshness telemetry', () => {
  it('records days since the last success per definition (-1 never) and janitor sweeps by outcome', async () => {
    const p = providers();
    const meter = p.meterProvider.getMeter('t');
    const days = await emitFreshness(
      ['a', 'b'],
      async (d) =>
        d === 'a' ? { requestedAt: '2026-01-01T00:00:00Z', finishedAt: '2026-01-01T12:00:00Z' } : undefined,
      new Date('2026-02-06T12:00:00Z'),
      { meter },
    );
    expect(days).toEqual({ a: 36, b: -1 });
    emitJanitorTelemetry({ outcome: 'failed', removed: 0, error: 'RestError' }, { meter });
    const batches = await p.collect();
    const fresh = points(batches, FRESHNESS_METRIC).map((d) => [d.attributes['jumpbox.definition'], d.value]);
    expect(Object.fromEntries(fresh)).toEqual({ a: 36, b: -1 });
    const sweeps = points(batches, JANITOR_METRIC);
    expect(sweeps.map((d) => d.attributes['jumpbox.janitor.outcome'])).toEqual(['failed']);
  });
});

describe('a simulated build emits its telemetry', () => {
  const p = providers();
  beforeAll(() => {
    metrics.setGlobalMeterProvider(p.meterProvider);
    trace.setGlobalTracerProvider(p.tracerProvider);
  });
  afterAll(() => {
    metrics.disable();
    trace.disable();
  });

  it('a failed build (--fail customizer): one span with its build id and result, metrics with the phases and the grant lifetime', async () => {
    const r = await runSimulation(
      { fail: 'customizer', definition: 'aks-jumpbox', json: true },
      { out: () => {}, json: () => {}, isTTY: false },
    );
    expect(r.status).toBe('Failed');
    const spans = p.spanExporter
      .getFinishedSpans()
      .filter((s) => s.attributes['jumpbox.build.id'] === r.buildId);
    expect(spans).toHaveLength(1);
    const span = spans[0]!;
    expect(span.attributes['jumpbox.build.result']).toBe('Failed');
    expect(span.attributes['error.type']).toBe(r.error?.code);
    expect(span.status.code).toBe(2);
    // Virtual time: the span covers the simulated build (tens of minutes), not the seconds it took here.
    const seconds = span.endTime[0] - span.startTime[0];
    expect(seconds).toBeGreaterThan(60);
    expect(span.attributes['jumpbox.build.duration_s']).toBeGreaterThan(60);
    expect(Number(span.attributes['jumpbox.build.polls'])).toBeGreaterThan(0);

    const batches = await p.collect();
    const completed = points(batches, METRIC.completed).filter(
      (d) => d.attributes['jumpbox.build.result'] === 'Failed',
    );
    expect(completed.map((d) => d.value)).toEqual([1]);
    const phases = new Set(
      points(batches, METRIC.phaseDuration).map((d) => d.attributes['jumpbox.build.phase']),
    );
    expect(phases).toContain('polling');
    expect(phases).toContain('revoking');
    const grant = points(batches, METRIC.grantLifetime);
    expect(grant).toHaveLength(1);
    expect((grant[0]!.value as { sum: number }).sum).toBeGreaterThan(0);
  }, 120_000);
});
