/**
 * Terminal progress (src/cli/progress.ts) on a fake TTY of a given width: the status line never wraps,
 * log lines never share a line with it, the final line shows the terminal state; plain lines off a TTY.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type BuildIo, parseBuildArgs, runBuild } from '../../src/cli/commands/build.js';
import { ProgressDisplay, statusLine, visibleLength } from '../../src/cli/progress.js';
import { FakeTerminal } from './fake-terminal.js';

const PHASES = [
  ['preflight', undefined],
  ['grant', undefined],
  ['polling', 'Queued'],
  ['polling', 'Building'],
  ['polling', 'Customizing'],
  ['polling', 'Optimizing'],
  ['polling', 'Validating'],
  ['polling', 'Distributing'],
  ['archiving', undefined],
  ['revoking', undefined],
] as const;

function drive(columns: number, tty = true) {
  const term = new FakeTerminal(columns);
  const d = new ProgressDisplay(
    { write: (s) => term.write(s) },
    { tty, colour: true, columns: () => columns },
  );
  PHASES.forEach(([phase, sub], i) => {
    d.update({
      percent: i * 10,
      label: `${phase}${sub ? ` / ${sub}` : ''}`,
      detail: `${(i * 4.5).toFixed(1)} min simulated`,
    });
    if (i === 4) d.log('simulate: the Image Contributor grant was removed during the build');
  });
  d.finish('build aks-jumpbox.20260101T000000Z.3f9a0c1e: Failed after 41.0 min simulated', false);
  return term;
}

describe('terminal progress', () => {
  it.each([80, 120])(
    'never wraps at %i columns, log lines stand alone, the last line is the terminal state',
    (cols) => {
      const term = drive(cols);
      expect(term.wraps).toBe(0);
      const screen = term.screen();
      // Exactly two lines remain: the log line and the final state; no stale status (e.g. "revoking").
      expect(screen).toEqual([
        'simulate: the Image Contributor grant was removed during the build',
        'build aks-jumpbox.20260101T000000Z.3f9a0c1e: Failed after 41.0 min simulated',
      ]);
    },
  );

  it('a log line printed while the bar shows is not glued onto the bar, and the bar is redrawn below it', () => {
    const term = new FakeTerminal(120);
    const d = new ProgressDisplay({ write: (s) => term.write(s) }, { tty: true, columns: () => 120 });
    d.update({ percent: 30, label: 'polling / Customizing', detail: '12.0 min' });
    d.log('status check failed (HTTP 503); retrying');
    expect(term.screen()[0]).toBe('status check failed (HTTP 503); retrying');
    expect(term.screen()[1]).toMatch(/^\[#+\.+\] {2}30% polling \/ Customizing {2}12\.0 min$/);
  });

  it('the status line fits every width from 1 to 300 columns (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }),
        fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
        fc.string({ maxLength: 120 }),
        fc.option(fc.string({ maxLength: 40 }), {
          nil: undefined,
        }),
        (width, percent, label, detail) => {
          const line = statusLine({ percent, label, detail }, width);
          expect(visibleLength(line)).toBeLessThanOrEqual(width);
          expect(line.includes('\n')).toBe(false);
        },
      ),
    );
  });

  it('narrow terminals keep the label: the detail goes first, then the bar shrinks', () => {
    const state = { percent: 42, label: 'polling / Customizing', detail: '12.0 min simulated' };
    expect(statusLine(state, 119)).toContain('12.0 min simulated');
    expect(statusLine(state, 40)).not.toContain('min');
    expect(statusLine(state, 40)).toContain('polling / Customizing');
    expect(statusLine(state, 12)).toBe(' 42% pollin…');
  });

  it('off a TTY: plain lines, one per change, no escape sequences or carriage returns', () => {
    const out: string[] = [];
    const d = new ProgressDisplay({ write: (s) => out.push(s) }, { tty: false, colour: true });
    d.update({ percent: 10, label: 'preflight' });
    d.update({ percent: 10, label: 'preflight' });
    d.update({ percent: 20, label: 'polling / Building', detail: '3.0 min' });
    d.log('a log line');
    d.finish('build x: Succeeded', true);
    expect(out.join('')).toBe('preflight\n[3.0 min] polling / Building\na log line\nbuild x: Succeeded\n');
  });

  it('build --wait on an 80-column TTY: no wrap, the final line is the result, colour only there', async () => {
    const term = new FakeTerminal(80);
    const status = 'https://app.example.net/api/builds/b1';
    const replies = [
      { status: 202, body: { buildId: 'b1', statusUrl: status } },
      ...['Building', 'Customizing', 'Distributing'].map((sub) => ({
        status: 200,
        body: {
          buildId: 'b1',
          status: 'Running',
          terminal: false,
          runtime: {
            customStatus: {
              phase: 'polling',
              runState: 'Running',
              runSubState: sub,
              elapsedSeconds: 1234,
              templateName: 'aks-jumpbox-0123456789ab',
            },
          },
        },
      })),
      { status: 200, body: { buildId: 'b1', status: 'Succeeded', terminal: true, imageId: '/img' } },
    ];
    let i = 0;
    const io: BuildIo = {
      env: { JUMPBOX_FUNCTION_KEY: 'k' },
      fetch: (async () => {
        const r = replies[Math.min(i++, replies.length - 1)]!;
        return new Response(JSON.stringify(r.body), { status: r.status });
      }) as unknown as typeof fetch,
      stdout: () => {},
      stderr: (s) => term.write(s),
      isTTY: true,
      colour: true,
      columns: () => 80,
      sleep: async () => {},
      now: () => 0,
    };
    const code = await runBuild(
      parseBuildArgs(['--url', 'https://app.example.net', '--definition', 'aks-jumpbox', '--wait']),
      io,
    );
    expect(code).toBe(0);
    expect(term.wraps).toBe(0);
    const screen = term.screen();
    expect(screen.at(-1)).toBe('build b1 Succeeded');
    expect(screen.some((l) => l.includes('runSubState=Distributing'))).toBe(false);
  });
});
