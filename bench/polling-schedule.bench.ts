/**
 * Adaptive polling vs fixed-interval polling, on the same simulated builds.
 *
 * For each build the true run duration is drawn (seeded, reproducible) around the expected duration; every
 * strategy polls until it first observes the run finished. Figures per strategy: polls per build (each poll
 * is one ARM GET and one durable timer in history) and detection latency (seconds between the real end and
 * the poll that sees it). Baselines: a fixed 15 s interval (the reference poller), a fixed 30 s interval (the floor: what a naive loop would do) and a fixed
 * 5 min interval (the ceiling).
 */

import { nextPollDelaySeconds, type PollingPolicy } from '../src/orchestration/polling-schedule.js';
import { emit } from './lib/report.js';

/** Small deterministic PRNG (mulberry32) so runs are comparable. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Strategy = (elapsed: number, first: boolean, subState: string) => number;

const EXPECTED = 35 * 60;
const policy: PollingPolicy = {
  minIntervalSeconds: 30,
  maxIntervalSeconds: 300,
  expectedSeconds: EXPECTED,
  deadlineSeconds: 90 * 60 + 15 * 60,
};

const strategies: Record<string, Strategy> = {
  adaptive: (elapsed, first, subState) =>
    nextPollDelaySeconds(policy, {
      elapsedSeconds: elapsed,
      firstPoll: first,
      runSubState: first ? undefined : subState,
    }),
  'fixed 15 s (baseline)': () => 15,
  'fixed 30 s (baseline)': () => 30,
  'fixed 5 min (baseline)': () => 300,
};

/** Sub-state the poll would observe at `t` for a run of `duration` seconds (distribution = last 8%). */
function subStateAt(t: number, duration: number): string {
  return t >= duration * 0.92 ? 'Distributing' : 'Customizing';
}

function simulate(strategy: Strategy, duration: number): { polls: number; latency: number } {
  let t = 0;
  let polls = 0;
  let first = true;
  let seen = 'Queued';
  for (;;) {
    const delay = strategy(t, first, seen);
    if (delay <= 0) return { polls, latency: Number.NaN };
    t += delay;
    polls++;
    first = false;
    if (t >= duration) return { polls, latency: t - duration };
    seen = subStateAt(t, duration);
  }
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

const BUILDS = 2000;
const rand = prng(20261130);
// Durations: expected ±40 % (uniform), plus 10 % of builds that overrun by up to 60 %.
const durations = Array.from({ length: BUILDS }, () => {
  const base = EXPECTED * (0.6 + 0.8 * rand());
  return rand() < 0.1 ? base * (1 + 0.6 * rand()) : base;
});

const rows: { name: string; polls: number; p50: number; p95: number; max: number }[] = [];
for (const [name, s] of Object.entries(strategies)) {
  const results = durations.map((d) => simulate(s, d));
  const polls = results.reduce((a, r) => a + r.polls, 0) / BUILDS;
  const lat = results.map((r) => r.latency);
  rows.push({ name, polls, p50: percentile(lat, 50), p95: percentile(lat, 95), max: Math.max(...lat) });
}

const fmt = (n: number, d = 1) => n.toFixed(d).padStart(8);
console.log(
  `builds: ${BUILDS}, expected ${EXPECTED / 60} min, floor ${policy.minIntervalSeconds} s, ceiling ${policy.maxIntervalSeconds} s`,
);
console.log(
  `${'strategy'.padEnd(24)} ${'polls/build'.padStart(11)} ${'latency p50 s'.padStart(14)} ${'p95 s'.padStart(8)} ${'max s'.padStart(8)}`,
);
for (const r of rows) {
  console.log(
    `${r.name.padEnd(24)} ${fmt(r.polls).padStart(11)} ${fmt(r.p50, 0).padStart(14)} ${fmt(r.p95, 0)} ${fmt(r.max, 0)}`,
  );
}
const adaptive = rows[0]!;
for (const base of rows.slice(1)) {
  console.log(
    `adaptive vs ${base.name}: polls ×${(adaptive.polls / base.polls).toFixed(2)}, p95 latency ×${(adaptive.p95 / base.p95).toFixed(2)}`,
  );
}
const fixed15 = rows.find((r) => r.name.startsWith('fixed 15 s'))!;
console.log(
  `goal: adaptive ≤ 1/8 of the fixed 15 s poller's reads (${(fixed15.polls / 8).toFixed(1)}), p95 detection ≤ 60 s`,
);
emit('polling', {
  adaptivePolls: Number(adaptive.polls.toFixed(1)),
  fixed15sPolls: Number(fixed15.polls.toFixed(1)),
  ratioToFixed15s: Number((adaptive.polls / fixed15.polls).toFixed(3)),
  p95DetectionSeconds: Math.round(adaptive.p95),
  fixed15sP95DetectionSeconds: Math.round(fixed15.p95),
  builds: BUILDS,
});
