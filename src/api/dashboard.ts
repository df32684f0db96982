/**
 * GET /api/dashboard — one HTML page for people: per definition, the running build, the current image
 * (last successful build), and the recent builds with their status, a phase timeline drawn as inline SVG,
 * the error and the archived log links. Served behind the same auth as the API (function key, `?code=` in
 * a browser, or App Service authentication). Self-contained: no script, no external resource; a strict
 * Content-Security-Policy allows only inline styles.
 */
import { buildInstanceId } from '../orchestration/contracts.js';
import type { BuildRecord } from '../records/build-records.js';
import { buildIdOf, isActive } from '../triggers/orchestration-port.js';
import type { ApiDeps } from './deps.js';

export interface DashboardPage {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface DefinitionView {
  readonly name: string;
  readonly running: { readonly buildId: string | undefined; readonly runtimeStatus: string } | null;
  readonly current: BuildRecord | null;
  readonly builds: readonly BuildRecord[];
}

const PHASE_COLOURS: Readonly<Record<string, string>> = {
  queued: '#9e9e9e',
  preflight: '#7986cb',
  identity: '#5c6bc0',
  roles: '#3f51b5',
  grant: '#8e24aa',
  'waiting-for-grant': '#ab47bc',
  template: '#00897b',
  run: '#26a69a',
  polling: '#1e88e5',
  cancelling: '#f4511e',
  archiving: '#fb8c00',
  cleanup: '#ffa726',
  promoting: '#43a047',
  tagging: '#43a047',
  revoking: '#6d4c41',
  recording: '#546e7a',
};

const STATUS_COLOURS: Readonly<Record<string, string>> = {
  Succeeded: '#2e7d32',
  Failed: '#c62828',
  Canceled: '#6d4c41',
  TimedOut: '#ef6c00',
  Running: '#1565c0',
  Queued: '#616161',
};

export function escapeHtml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

export interface PhaseSegment {
  readonly phase: string;
  readonly start: number;
  readonly seconds: number;
}

/** Phases in time order with their durations; the last one runs to `endIso` (the finish, or now). */
export function phaseSegments(
  record: Pick<BuildRecord, 'phaseTimestamps' | 'finishedAt'>,
  now: Date,
): PhaseSegment[] {
  const starts = Object.entries(record.phaseTimestamps)
    .map(([phase, at]) => ({ phase, ms: Date.parse(at) }))
    .filter((p) => Number.isFinite(p.ms) && p.phase !== 'done')
    .sort((a, b) => a.ms - b.ms);
  if (starts.length === 0) return [];
  const endParsed = record.finishedAt ? Date.parse(record.finishedAt) : Number.NaN;
  const end = Number.isFinite(endParsed) ? endParsed : now.getTime();
  const t0 = starts[0]!.ms;
  return starts.map((p, i) => {
    const next = starts[i + 1]?.ms ?? Math.max(end, p.ms);
    return { phase: p.phase, start: (p.ms - t0) / 1000, seconds: Math.max(0, (next - p.ms) / 1000) };
  });
}

function minutes(seconds: number): string {
  return seconds >= 90 ? `${(seconds / 60).toFixed(1)} min` : `${Math.round(seconds)} s`;
}

/** The phase timeline as an inline SVG: one coloured segment per phase, proportional to its duration. */
export function timelineSvg(segments: readonly PhaseSegment[], width = 420, height = 18): string {
  const total = segments.reduce((s, p) => s + p.seconds, 0);
  if (segments.length === 0 || total <= 0) {
    return `<svg class="timeline" width="${width}" height="${height}" role="img" aria-label="no phases yet"><rect width="${width}" height="${height}" fill="#eeeeee"/></svg>`;
  }
  let x = 0;
  const rects = segments.map((p) => {
    // Every phase stays visible: at least 2 px, the rest shared in proportion.
    const w = Math.max(2, (p.seconds / total) * (width - 2 * segments.length) + 0);
    const rect = `<rect x="${x.toFixed(1)}" y="0" width="${w.toFixed(1)}" height="${height}" fill="${PHASE_COLOURS[p.phase] ?? '#90a4ae'}" data-phase="${escapeHtml(p.phase)}"><title>${escapeHtml(p.phase)}: ${minutes(p.seconds)}</title></rect>`;
    x += w;
    return rect;
  });
  const label = segments.map((p) => `${p.phase} ${minutes(p.seconds)}`).join(', ');
  return `<svg class="timeline" width="${Math.ceil(Math.max(x, width))}" height="${height}" role="img" aria-label="${escapeHtml(label)}">${rects.join('')}</svg>`;
}

function statusBadge(status: string): string {
  return `<span class="status" style="background:${STATUS_COLOURS[status] ?? '#616161'}">${escapeHtml(status)}</span>`;
}

function logLinks(urls: readonly string[]): string {
  if (urls.length === 0) return '<span class="muted">none</span>';
  return urls
    .map((u) => {
      const safe = /^https?:\/\//.test(u) ? u : '#';
      return `<a href="${escapeHtml(safe)}">${escapeHtml(u.slice(u.lastIndexOf('/') + 1) || u)}</a>`;
    })
    .join(' ');
}

/** The build's SBOM, vulnerability report and provenance record (docs/provenance.md), when archived. */
function supplyChainLinks(b: BuildRecord): string[] {
  return [b.sbom, b.vulnerabilities?.report, b.provenance].filter((u): u is string => u !== undefined);
}

function buildRow(b: BuildRecord, now: Date): string {
  const duration =
    b.durationSeconds !== undefined ? minutes(b.durationSeconds) : b.finishedAt ? '' : 'running';
  return `<tr class="build" data-build-id="${escapeHtml(b.buildId)}">
<td><code>${escapeHtml(b.buildId)}</code><div class="muted">${escapeHtml(b.trigger)} · ${escapeHtml(b.requestedBy)}${b.reason ? ` · ${escapeHtml(b.reason)}` : ''}</div></td>
<td>${statusBadge(b.status)}${b.upToDate ? ' <span class="muted">up to date, nothing built</span>' : ''}${b.phase && !b.finishedAt ? `<div class="muted">${escapeHtml(b.phase)}${b.runSubState ? ` / ${escapeHtml(b.runSubState)}` : ''}</div>` : ''}</td>
<td>${timelineSvg(phaseSegments(b, now))}<div class="muted">${escapeHtml(duration)}</div></td>
<td>${b.error ? `<code>${escapeHtml(b.error.code)}</code> <span class="muted">${escapeHtml(b.error.message.slice(0, 200))}</span>` : ''}</td>
<td>${logLinks([...b.logUrls, ...supplyChainLinks(b)])}</td>
</tr>`;
}

function legend(): string {
  return Object.entries(PHASE_COLOURS)
    .map(
      ([p, c]) =>
        `<span class="legend"><span class="swatch" style="background:${c}"></span>${escapeHtml(p)}</span>`,
    )
    .join(' ');
}

export function renderDashboard(views: readonly DefinitionView[], now: Date): string {
  const sections = views.map((v) => {
    const running = v.running
      ? `<p>Running: <code>${escapeHtml(v.running.buildId ?? '(starting)')}</code> (${escapeHtml(v.running.runtimeStatus)})</p>`
      : '<p class="muted">No build running.</p>';
    const current = v.current
      ? `<p>Current image: <code>${escapeHtml(v.current.imageId ?? '(unknown)')}</code> from build <code>${escapeHtml(v.current.buildId)}</code>${v.current.finishedAt ? ` (${escapeHtml(v.current.finishedAt)})` : ''}</p>`
      : '<p class="muted">No successful build yet.</p>';
    const rows = v.builds.map((b) => buildRow(b, now)).join('\n');
    return `<section class="definition" data-definition="${escapeHtml(v.name)}">
<h2>${escapeHtml(v.name)}</h2>
${running}
${current}
<table>
<thead><tr><th>Build</th><th>Status</th><th>Phases</th><th>Error</th><th>Archived logs</th></tr></thead>
<tbody>
${rows || '<tr><td colspan="5" class="muted">No builds yet.</td></tr>'}
</tbody>
</table>
</section>`;
  });
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="30">
<title>Jump-box image builds</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #212121; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: .4rem .6rem; border-bottom: 1px solid #e0e0e0; }
.status { color: #fff; border-radius: 3px; padding: 1px 6px; font-size: 12px; }
.muted { color: #757575; font-size: 12px; }
.legend { font-size: 12px; margin-right: .6rem; white-space: nowrap; }
.swatch { display: inline-block; width: 10px; height: 10px; margin-right: 3px; }
code { font-size: 12px; }
</style>
</head>
<body>
<h1>Jump-box image builds</h1>
<p class="muted">Generated ${escapeHtml(now.toISOString())}; refreshes every 30 s. Phases: ${legend()}</p>
${sections.join('\n')}
</body>
</html>
`;
}

/** Collects what the page shows (the same ports as the JSON API) and renders it. */
export async function handleDashboard(deps: ApiDeps, top = 10): Promise<DashboardPage> {
  const now = deps.now?.() ?? new Date();
  const views = await Promise.all(
    deps.definitions.map(async (d): Promise<DefinitionView> => {
      const [snapshot, builds, current] = await Promise.all([
        deps.orchestrations.status(buildInstanceId(d.name)),
        deps.records.list({ definition: d.name, top }),
        deps.records.lastSuccessful(d.name),
      ]);
      return {
        name: d.name,
        running:
          snapshot && isActive(snapshot.runtimeStatus)
            ? { buildId: buildIdOf(snapshot), runtimeStatus: snapshot.runtimeStatus }
            : null,
        current: current ?? null,
        builds,
      };
    }),
  );
  return {
    status: 200,
    headers: {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy':
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'",
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'no-store',
      'Referrer-Policy': 'no-referrer',
    },
    body: renderDashboard(views, now),
  };
}
