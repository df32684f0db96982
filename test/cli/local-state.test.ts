/**
 * `npm run local -- --state DIR`: the option, the DIR checks, local.json, the lock, the clock that keeps
 * flowing while the process is down, the saved ports (src/local/local-state.ts). The kill-and-restart run of
 * the whole app is test/reliability/local-state.test.ts.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  command,
  crashEveryEpisodes,
  LOCAL_USAGE,
  LocalUsageError,
  parseLocalArgs,
} from '../../src/cli/commands/local.js';
import {
  acquireStateLock,
  assertPortsFree,
  type ClockState,
  LOCAL_STATE_VERSION,
  LocalPortError,
  LocalStateError,
  type LocalStateFile,
  openStateDir,
  PersistedClock,
  parseLocalStateFile,
  prepareLocalState,
  rebaseClock,
  serializeLocalStateFile,
  statePaths,
  virtualNowOf,
} from '../../src/local/local-state.js';
import { createLocalCertificate, loadOrCreateLocalCertificate } from '../../src/local/tls.js';
import { writeFileAtomic } from '../../src/local/write-atomic.js';

const dirs: string[] = [];
const HOLDER = fileURLToPath(new URL('./fixtures/state-lock-holder.ts', import.meta.url));

/** A process that tries to take DIR's lock (at `goAt`), and its one JSON line. */
function startHolder(dir: string, goAt = 0) {
  const child = spawn(process.execPath, ['--import', 'tsx', HOLDER, dir], {
    env: { ...process.env, GO_AT: String(goAt) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((r) => child.once('exit', r));
  const line = new Promise<Record<string, unknown>>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (l) => resolve(JSON.parse(l)));
    void exited.then(() => reject(new Error('the lock holder exited without a line')));
  });
  return { child, exited, line };
}

const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'local-state-unit-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const portArb = fc.integer({ min: 1, max: 65_535 });
const stateArb: fc.Arbitrary<LocalStateFile> = fc.record(
  {
    version: fc.constant(LOCAL_STATE_VERSION as typeof LOCAL_STATE_VERSION),
    ports: fc.record({ app: portArb, arm: portArb, blob: portArb, queue: portArb, table: portArb }),
    functionKey: fc.string({ minLength: 8, maxLength: 64 }),
    taskHub: fc.stringMatching(/^[A-Za-z][A-Za-z0-9]{2,44}$/),
    clock: fc.record({
      epochVirtual: fc.integer({ min: 0, max: 4_000_000_000_000 }),
      epochReal: fc.integer({ min: 0, max: 4_000_000_000_000 }),
      scale: fc.option(fc.double({ min: 0.001, max: 10_000, noNaN: true }), { nil: null }),
    }),
    scenarioFile: fc.string({ minLength: 1 }),
  },
  { requiredKeys: ['version', 'ports', 'functionKey', 'taskHub', 'clock'] },
);

describe('--state option', () => {
  it('takes any directory path verbatim and is absent by default', () => {
    expect(parseLocalArgs([]).state).toBeUndefined();
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }).filter((s) => !s.startsWith('--') && s.trim() !== ''),
        (dir) => {
          expect(parseLocalArgs(['--state', dir]).state).toBe(dir);
        },
      ),
    );
  });

  it('needs a value, and names itself in the list of options', () => {
    expect(() => parseLocalArgs(['--state'])).toThrow(/--state needs a value/);
    expect(() => parseLocalArgs(['--state', '--port', '1'])).toThrow(/--state needs a value/);
    expect(() => parseLocalArgs(['--state', '  '])).toThrow(LocalUsageError);
    expect(() => parseLocalArgs(['--stat', 'x'])).toThrow(/--state DIR/);
    expect(LOCAL_USAGE).toMatch(/--state DIR/);
  });

  it('tells a given --time-scale from the default (a restart keeps the saved scale otherwise)', () => {
    expect(parseLocalArgs(['--state', 'd']).timeScaleGiven).toBe(false);
    expect(parseLocalArgs(['--state', 'd', '--time-scale', '120'])).toMatchObject({
      timeScale: 120,
      timeScaleGiven: true,
    });
  });
});

describe('LOCAL_CRASH_EVERY_EPISODES (crash tests of --state)', () => {
  it('is off when unset, a whole number >= 1 with --state, refused otherwise naming the variable and the fix', () => {
    expect(crashEveryEpisodes(undefined, 'd')).toBeUndefined();
    expect(crashEveryEpisodes('', undefined)).toBeUndefined();
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), (n) => {
        expect(crashEveryEpisodes(String(n), 'd')).toBe(n);
      }),
    );
    fc.assert(
      fc.property(
        fc.oneof(fc.constantFrom('0', '-1', '2.5', 'x', 'NaN', 'Infinity'), fc.string({ minLength: 1 })),
        (raw) => {
          fc.pre(!(Number.isInteger(Number(raw)) && Number(raw) >= 1));
          expect(() => crashEveryEpisodes(raw, 'd')).toThrow(
            /^LOCAL_CRASH_EVERY_EPISODES must be a whole number of episodes >= 1, got .*; unset it/,
          );
        },
      ),
    );
    expect(() => crashEveryEpisodes('3', undefined)).toThrow(
      /LOCAL_CRASH_EVERY_EPISODES needs --state DIR: without it a crash loses/,
    );
  });
});

describe('DIR/local.json', () => {
  it('round-trips every valid state', () => {
    fc.assert(
      fc.property(stateArb, (s) => {
        expect(parseLocalStateFile(serializeLocalStateFile(s), 'x/local.json')).toEqual(s);
      }),
    );
  });

  it('rejects anything else with one line naming the file and the fix', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.json(),
          fc.string(),
          stateArb.map((s) => JSON.stringify({ ...s, ports: { ...s.ports, app: 0 } })),
          stateArb.map((s) => JSON.stringify({ ...s, functionKey: 'short' })),
          stateArb.map((s) => JSON.stringify({ ...s, version: 2 })),
          stateArb.map((s) => JSON.stringify({ ...s, extra: true })),
        ),
        (text) => {
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = undefined;
          }
          fc.pre(!localStateShaped(parsed));
          let error: unknown;
          try {
            parseLocalStateFile(text, 'd/local.json');
          } catch (e) {
            error = e;
          }
          expect(error).toBeInstanceOf(LocalStateError);
          const message = (error as Error).message;
          expect(message).toMatch(/^--state: d\/local\.json/);
          expect(message).toMatch(/new --state directory/);
          expect(message).not.toContain('\n');
        },
      ),
    );
  });

  it('names the wrong field', () => {
    const good = fc.sample(stateArb, 1)[0]!;
    expect(() =>
      parseLocalStateFile(JSON.stringify({ ...good, ports: { ...good.ports, blob: 70_000 } }), 'f'),
    ).toThrow(/"ports\.blob"/);
    expect(() =>
      parseLocalStateFile(JSON.stringify({ ...good, clock: { ...good.clock, scale: -1 } }), 'f'),
    ).toThrow(/"clock\.scale"/);
  });

  it('is replaced atomically with mode 0600', () => {
    const dir = tempDir();
    const file = join(dir, 'local.json');
    writeFileAtomic(file, 'one');
    writeFileAtomic(file, 'two');
    expect(readFileSync(file, 'utf8')).toBe('two');
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });
});

/** A value the schema would accept (the property above only feeds it values that are not). */
function localStateShaped(v: unknown): boolean {
  try {
    parseLocalStateFile(JSON.stringify(v), 'probe');
    return true;
  } catch {
    return false;
  }
}

describe('the clock', () => {
  const clockArb = fc.record({
    epochVirtual: fc.integer({ min: 0, max: 4_000_000_000_000 }),
    epochReal: fc.integer({ min: 0, max: 2_000_000_000_000 }),
    scale: fc.option(fc.integer({ min: 1, max: 1000 }), { nil: null }),
  });

  it('flows while the process is down: now = epochVirtual + (real now - epochReal) x scale', () => {
    const c: ClockState = { epochVirtual: 1_000_000, epochReal: 5_000, scale: 120 };
    expect(virtualNowOf(c, 6_000)).toBe(1_000_000 + 1_000 * 120);
    expect(virtualNowOf({ ...c, scale: null }, 6_000)).toBe(1_000_000);
  });

  it('a new scale starts from the virtual now of the old one (no jump), and runs at the new pace', () => {
    fc.assert(
      fc.property(
        clockArb,
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.option(fc.integer({ min: 1, max: 1000 }), { nil: null }),
        fc.integer({ min: 0, max: 10_000_000 }),
        (c, downFor, scale, later) => {
          const restart = c.epochReal + downFor;
          const r = rebaseClock(c, scale, restart);
          expect(virtualNowOf(r, restart)).toBe(virtualNowOf(c, restart));
          expect(virtualNowOf(r, restart + later)).toBe(virtualNowOf(c, restart) + later * (scale ?? 0));
        },
      ),
    );
  });

  it('saves each jump before listeners see it, and each change of scale', () => {
    const saved: ClockState[] = [];
    const clock = new PersistedClock({ epochVirtual: 1_000, epochReal: Date.now(), scale: null }, (c) =>
      saved.push(c),
    );
    let seenBySave = -1;
    clock.onAdvance(() => {
      seenBySave = saved.length;
    });
    clock.advanceTo(5_000);
    expect(seenBySave).toBe(1);
    expect(saved[0]).toMatchObject({ epochVirtual: 5_000, scale: null });
    clock.advanceTo(4_000); // never backwards: nothing to save
    expect(saved).toHaveLength(1);
    clock.setScale(60);
    expect(saved[1]).toMatchObject({ epochVirtual: 5_000, scale: 60 });
  });
});

describe('the state directory', () => {
  it('is created 0700; a file or a foreign directory is refused with the option and the fix', () => {
    const root = tempDir();
    const fresh = join(root, 'new', 'state');
    expect(openStateDir(fresh).saved).toBeUndefined();
    expect(statSync(fresh).mode & 0o777).toBe(0o700);

    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    expect(() => openStateDir(file)).toThrow(
      /^--state .*a-file: this is a file, not a directory; give a directory/,
    );

    const foreign = join(root, 'foreign');
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'notes.txt'), 'x');
    expect(() => openStateDir(foreign)).toThrow(
      /holds notes\.txt but no local\.json; give an empty or new directory/,
    );
  });

  it('one running local per DIR: a second start is refused naming the holder; a SIGKILLed holder frees the lock at once', async () => {
    const dir = tempDir();
    const paths = statePaths(dir);
    const release = await acquireStateLock(paths, dir);
    expect(JSON.parse(readFileSync(paths.lock, 'utf8')).pid).toBe(process.pid);
    await expect(acquireStateLock(paths, dir)).rejects.toThrow(/already used by this process/);
    release();
    expect(existsSync(paths.lock)).toBe(false);

    // Another process holds it: refused, naming that process.
    const holder = startHolder(dir);
    try {
      expect(await holder.line).toEqual({ held: true });
      await expect(acquireStateLock(paths, dir)).rejects.toThrow(
        new RegExp(`used by a running \`local\` \\(pid ${holder.child.pid}\\); stop it first`),
      );
    } finally {
      holder.child.kill('SIGKILL');
      await holder.exited;
    }
    // Killed: its local.pid is left behind, but the kernel freed the lock; the next start takes it.
    expect(JSON.parse(readFileSync(paths.lock, 'utf8')).pid).toBe(holder.child.pid);
    (await acquireStateLock(paths, dir))();
    // A leftover local.pid naming a live process that does not hold the lock (a reused pid) does not block.
    writeFileAtomic(paths.lock, JSON.stringify({ pid: process.ppid }));
    (await acquireStateLock(paths, dir))();
  });

  it('starts at the same moment on one DIR: exactly one gets the lock', async () => {
    const dir = tempDir();
    const goAt = Date.now() + 4000;
    const holders = Array.from({ length: 4 }, () => startHolder(dir, goAt));
    try {
      const lines = await Promise.all(holders.map((h) => h.line));
      expect(lines.filter((l) => 'held' in l)).toHaveLength(1);
      for (const l of lines.filter((x) => 'refused' in x)) {
        expect(String(l.refused)).toMatch(/used by a running `local`/);
      }
    } finally {
      for (const h of holders) h.child.kill('SIGKILL');
      await Promise.all(holders.map((h) => h.exited));
    }
  });

  it('a saved port held by another process is named, with the fix', async () => {
    const server: Server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const held = (server.address() as { port: number }).port;
    try {
      await expect(
        assertPortsFree({ app: held, arm: held, blob: held, queue: held, table: held }, 'd/local.json'),
      ).rejects.toThrow(LocalPortError);
      await expect(
        assertPortsFree({ app: 1, arm: 1, blob: held, queue: 1, table: 1 }, 'd/local.json'),
      ).rejects.toThrow(new RegExp(`port (1|${held}) \\((the app|Azurite blob), saved in d/local.json\\)`));
    } finally {
      server.close();
    }
  });
});

describe('prepareLocalState', () => {
  const request = (dir: string, extra: Partial<Parameters<typeof prepareLocalState>[0]> = {}) => ({
    dir,
    timeScale: 60,
    timeScaleGiven: false,
    port: 0,
    log: () => undefined,
    ...extra,
  });
  const scenarioCopy = (path: string) => writeFileAtomic(path, '{}\n');

  it('first start: five distinct ports, a key, the clock at the epoch; a restart reads the same', async () => {
    const dir = tempDir();
    const first = await prepareLocalState(request(dir, { timeScale: 120 }), scenarioCopy);
    first.release();
    expect(first.firstStart).toBe(true);
    const ports = Object.values(first.config.ports);
    expect(new Set(ports).size).toBe(5);
    expect(first.config.clock.scale).toBe(120);
    expect(statSync(first.paths.config).mode & 0o777).toBe(0o600);

    const again = await prepareLocalState(request(dir), scenarioCopy);
    again.release();
    expect(again.firstStart).toBe(false);
    expect(again.config).toEqual(first.config);
    // Virtual time went on at the saved scale.
    expect(again.clock.scale).toBe(120);
    expect(again.clock.now()).toBeGreaterThanOrEqual(first.config.clock.epochVirtual);
  });

  it('a restart with another --time-scale rebases the saved clock and saves it', async () => {
    const dir = tempDir();
    const t0 = 1_800_000_000_000;
    (await prepareLocalState(request(dir, { timeScale: 100, nowMs: t0 }), scenarioCopy)).release();
    const restarted = await prepareLocalState(
      request(dir, { timeScale: 10, timeScaleGiven: true, nowMs: t0 + 1_000 }),
      scenarioCopy,
    );
    restarted.release();
    const saved = parseLocalStateFile(readFileSync(restarted.paths.config, 'utf8'), 'x');
    expect(saved.clock).toEqual({
      epochVirtual: restarted.config.clock.epochVirtual,
      epochReal: t0 + 1_000,
      scale: 10,
    });
    expect(saved.clock.epochVirtual - Date.UTC(2026, 0, 1)).toBe(100_000);
  });

  it('a restart refuses a different --port or --scenario, naming the option and the fix', async () => {
    const dir = tempDir();
    const first = await prepareLocalState(request(dir), scenarioCopy);
    first.release();
    const other = first.config.ports.app === 65_000 ? 65_001 : 65_000;
    await expect(prepareLocalState(request(dir, { port: other }), scenarioCopy)).rejects.toThrow(
      new RegExp(`^--port ${other}: .* fixes the app's port at ${first.config.ports.app} .*drop --port`),
    );
    await expect(
      prepareLocalState(request(dir, { scenarioFile: 'other.json' }), scenarioCopy),
    ).rejects.toThrow(/^--scenario other\.json: a scenario applies only on the first start.*drop --scenario/);
    // The lock was released by the failed attempts.
    (await prepareLocalState(request(dir, { port: first.config.ports.app }), scenarioCopy)).release();
  });
});

describe('the certificate kept in DIR/tls', () => {
  it('is reused while valid, renewed in place a day before it ends or when unreadable', async () => {
    const dir = join(tempDir(), 'tls');
    const made = await loadOrCreateLocalCertificate(dir);
    expect(statSync(made.keyPath).mode & 0o777).toBe(0o600);
    expect((await loadOrCreateLocalCertificate(dir)).cert).toBe(made.cert);
    const nearEnd = Date.now() + 29.5 * 86_400_000;
    const renewed = await loadOrCreateLocalCertificate(dir, nearEnd);
    expect(renewed.cert).not.toBe(made.cert);
    expect(renewed.certPath).toBe(made.certPath);
    // A key that does not belong to the certificate.
    writeFileAtomic(renewed.keyPath, (await createLocalCertificate()).key);
    expect((await loadOrCreateLocalCertificate(dir)).cert).not.toBe(renewed.cert);
  });
});

describe('local --state through the command (nothing starts when DIR is refused)', () => {
  async function run(argv: string[]): Promise<{ code: number; stderr: string }> {
    const lines: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((s: string) => lines.push(String(s)) > 0) as typeof process.stderr.write;
    try {
      return { code: await command.run(argv), stderr: lines.join('') };
    } finally {
      process.stderr.write = write;
    }
  }

  it('exit 2 with one line for a file, and for a DIR used by a running local', async () => {
    const file = join(tempDir(), 'file');
    writeFileSync(file, '');
    const asFile = await run(['--state', file]);
    expect(asFile).toMatchObject({ code: 2 });
    expect(asFile.stderr).toMatch(
      /^jumpbox-builder local: --state .*: this is a file, not a directory[^\n]*\n$/,
    );

    const dir = tempDir();
    const holder = startHolder(dir);
    try {
      expect(await holder.line).toEqual({ held: true });
      const busy = await run(['--state', dir]);
      expect(busy).toMatchObject({ code: 2 });
      expect(busy.stderr).toMatch(
        new RegExp(`used by a running \`local\` \\(pid ${holder.child.pid}\\); stop it first`),
      );
    } finally {
      holder.child.kill('SIGKILL');
      await holder.exited;
    }
  });

  it('exit 1 with one line naming the port when a saved port is held by another program', async () => {
    const dir = tempDir();
    const server: Server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const held = (server.address() as { port: number }).port;
    try {
      const first = await prepareLocalState(
        { dir, timeScale: 60, timeScaleGiven: false, port: 0, log: () => undefined },
        (path) => writeFileAtomic(path, '{}\n'),
      );
      first.release();
      writeFileAtomic(
        first.paths.config,
        serializeLocalStateFile({ ...first.config, ports: { ...first.config.ports, table: held } }),
      );
      const taken = await run(['--state', dir]);
      expect(taken).toMatchObject({ code: 1 });
      expect(taken.stderr).toMatch(
        new RegExp(`port ${held} \\(Azurite table, saved in .*local\\.json\\) is in use`),
      );
      expect(taken.stderr.trim().split('\n')).toHaveLength(1);
    } finally {
      server.close();
    }
  });
});
