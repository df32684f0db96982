/**
 * The state directory of `npm run local -- --state DIR`: what a restart needs to carry on where a killed
 * process stopped (docs/simulate.md, "Keep the state: --state DIR").
 *
 *   DIR/local.json          version, fixed ports, function key, task hub, virtual clock, scenario file given
 *   DIR/scenario.json       the scenario as applied on the first start (restarts read this copy)
 *   DIR/local.pid           {"pid","startTime"} of the running `local` (one process per DIR)
 *   DIR/tls/                the local certificate (URLs and trust stay valid)
 *   DIR/azurite/            Azurite's --location; DIR/azurite.pid finds an orphaned Azurite
 *   DIR/arm-emulator.json   the ARM emulator's state file
 *   DIR/durable/            the local Durable host's stateDir (instance journals)
 *
 * Files are replaced atomically (write-atomic.ts); the directory is 0700 and files 0600 (the function key).
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { freePort } from './azurite.js';
import { VirtualClock } from './clock.js';
import { writeFileAtomic } from './write-atomic.js';

export const LOCAL_STATE_VERSION = 1;
/** The virtual time a new state directory starts at (as `new VirtualClock()`). */
export const LOCAL_STATE_EPOCH = Date.UTC(2026, 0, 1, 0, 0, 0);
export const LOCAL_TASK_HUB = 'jumpboxlocal';

/** A problem with DIR or with options that contradict it: one line, exit 2. */
export class LocalStateError extends Error {}
/** A saved port held by another process: one line, exit 1 (the stand-ins cannot start). */
export class LocalPortError extends Error {}

export interface StatePaths {
  readonly dir: string;
  readonly config: string;
  readonly scenario: string;
  readonly lock: string;
  readonly tls: string;
  readonly azurite: string;
  readonly azuritePid: string;
  readonly armState: string;
  readonly durable: string;
}

export function statePaths(dir: string): StatePaths {
  const d = resolve(dir);
  return {
    dir: d,
    config: join(d, 'local.json'),
    scenario: join(d, 'scenario.json'),
    lock: join(d, 'local.pid'),
    tls: join(d, 'tls'),
    azurite: join(d, 'azurite'),
    azuritePid: join(d, 'azurite.pid'),
    armState: join(d, 'arm-emulator.json'),
    durable: join(d, 'durable'),
  };
}

const port = z.number().int().min(1).max(65_535);
const localStateSchema = z.strictObject({
  version: z.literal(LOCAL_STATE_VERSION),
  ports: z.strictObject({ app: port, arm: port, blob: port, queue: port, table: port }),
  functionKey: z.string().min(8),
  taskHub: z.string().regex(/^[A-Za-z][A-Za-z0-9]{2,44}$/),
  clock: z.strictObject({
    epochVirtual: z.number().finite(),
    epochReal: z.number().finite(),
    /** Simulated seconds per real second; null = manual (time moves only when told). */
    scale: z.number().finite().positive().nullable(),
  }),
  scenarioFile: z.string().min(1).optional(),
});

export type LocalStateFile = z.infer<typeof localStateSchema>;
export type ClockState = LocalStateFile['clock'];
export type LocalPorts = LocalStateFile['ports'];

/** Reads local.json; a wrong file is a LocalStateError naming the file, the field and the fix. */
export function parseLocalStateFile(text: string, path: string): LocalStateFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new LocalStateError(
      `--state: ${path} is not JSON (${(e as Error).message}); restore it or start on a new --state directory`,
    );
  }
  const version = (raw as { version?: unknown } | null)?.version;
  if (version !== LOCAL_STATE_VERSION) {
    throw new LocalStateError(
      `--state: ${path} has version ${JSON.stringify(version)}, this build reads version ${LOCAL_STATE_VERSION}; start on a new --state directory`,
    );
  }
  const parsed = localStateSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new LocalStateError(
      `--state: ${path}: "${issue.path.join('.') || '(root)'}" ${issue.message}; restore the file or start on a new --state directory`,
    );
  }
  return parsed.data;
}

export function serializeLocalStateFile(s: LocalStateFile): string {
  return `${JSON.stringify(s, null, 2)}\n`;
}

/** Virtual now of a saved clock: time flowed while the process was down, as Azure's does. */
export function virtualNowOf(c: ClockState, realNowMs: number): number {
  return c.scale === null ? c.epochVirtual : c.epochVirtual + (realNowMs - c.epochReal) * c.scale;
}

/** The same virtual now, from here on at `scale`. */
export function rebaseClock(c: ClockState, scale: number | null, realNowMs: number): ClockState {
  return { epochVirtual: virtualNowOf(c, realNowMs), epochReal: realNowMs, scale };
}

/** A VirtualClock that reports each change of its base (a jump or a new scale) before anyone sees it. */
export class PersistedClock extends VirtualClock {
  constructor(
    state: ClockState,
    private readonly persist: (c: ClockState) => void,
    realNowMs: number = Date.now(),
  ) {
    super(virtualNowOf(state, realNowMs), state.scale ?? undefined);
  }

  override setScale(scale: number | undefined): void {
    super.setScale(scale);
    this.persist({ epochVirtual: this.now(), epochReal: Date.now(), scale: scale ?? null });
  }

  override advanceTo(ms: number): void {
    // Saved before the listeners (the ARM emulator) act on the new time.
    if (ms > this.now()) this.persist({ epochVirtual: ms, epochReal: Date.now(), scale: this.scale ?? null });
    super.advanceTo(ms);
  }
}

/** Names that may be in DIR before local.json exists (a first start killed before it wrote local.json). */
const BEFORE_CONFIG = new Set(['local.pid', 'scenario.json']);

/**
 * Creates DIR (0700) or checks an existing one: a file, a directory of something else, or one whose
 * local.json is missing while the rest of the state is there are LocalStateErrors.
 */
export function openStateDir(dir: string): { paths: StatePaths; saved: LocalStateFile | undefined } {
  const paths = statePaths(dir);
  if (existsSync(paths.dir)) {
    if (!statSync(paths.dir).isDirectory()) {
      throw new LocalStateError(
        `--state ${dir}: this is a file, not a directory; give a directory (it is created if missing)`,
      );
    }
  } else {
    mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  }
  chmodSync(paths.dir, 0o700);
  if (existsSync(paths.config)) {
    return { paths, saved: parseLocalStateFile(readFileSync(paths.config, 'utf8'), paths.config) };
  }
  const foreign = readdirSync(paths.dir).filter((f) => !BEFORE_CONFIG.has(f) && !/^\..*\.tmp$/.test(f));
  if (foreign.length > 0) {
    throw new LocalStateError(
      `--state ${dir}: the directory holds ${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', ...' : ''} but no local.json; give an empty or new directory (or restore local.json)`,
    );
  }
  return { paths, saved: undefined };
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot) and the state letter; undefined off Linux. */
export function procStat(pid: number): { startTime: string; state: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0]!, startTime: fields[19]! };
  } catch {
    return undefined;
  }
}

/** Whether `pid` runs (not a zombie) and, when known, started at `startTime` (not a reused pid). */
export function processIsAlive(pid: number, startTime?: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const stat = procStat(pid);
  if (stat === undefined) return !existsSync('/proc/self/stat');
  if (stat.state === 'Z' || stat.state === 'X') return false;
  return startTime === undefined || stat.startTime === startTime;
}

function readJson(path: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The kernel-held lock's name for DIR (Linux abstract socket: no file, freed when its process dies). */
export function stateLockName(paths: StatePaths): string {
  let real = paths.dir;
  try {
    real = realpathSync(paths.dir);
  } catch {}
  return `\0jumpbox-local/${createHash('sha256').update(real).digest('hex').slice(0, 32)}`;
}

/** Listens on the DIR's abstract socket: resolves the server, or undefined when another process holds it. */
function holdKernelLock(name: string): Promise<Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.destroy());
    server.once('error', (e: NodeJS.ErrnoException) =>
      e.code === 'EADDRINUSE' ? resolve(undefined) : reject(e),
    );
    server.listen({ path: name, exclusive: true }, () => {
      server.unref();
      resolve(server);
    });
  });
}

/**
 * One `local` per DIR. On Linux the lock is an abstract Unix socket named after DIR's real path
 * (`stateLockName`): binding it is atomic and the kernel frees it when the holder dies, even by SIGKILL, so
 * two starts at the same moment cannot both get through and a killed holder never blocks a restart.
 * DIR/local.pid names the holder (pid + start time) for messages and, where there are no abstract sockets,
 * is the lock itself (a file left by a killed process is taken over; that fallback is not atomic).
 * Returns the release function.
 */
export async function acquireStateLock(paths: StatePaths, dirArg: string): Promise<() => void> {
  const held = readJson(paths.lock);
  const heldPid = held && typeof held.pid === 'number' ? held.pid : undefined;
  const refuse = (pid: number | undefined) =>
    new LocalStateError(
      pid === process.pid
        ? `--state ${dirArg}: already used by this process; give another --state directory`
        : `--state ${dirArg}: used by a running \`local\`${pid === undefined ? '' : ` (pid ${pid})`}; stop it first (Ctrl+C there${pid === undefined ? '' : `, or kill ${pid}`}) or give another --state directory`,
    );
  let server: Server | undefined;
  if (process.platform === 'linux') {
    server = await holdKernelLock(stateLockName(paths));
    if (!server) throw refuse(heldPid);
  } else if (heldPid !== undefined) {
    const startTime = typeof held?.startTime === 'string' ? held.startTime : undefined;
    if (heldPid === process.pid || processIsAlive(heldPid, startTime)) throw refuse(heldPid);
  }
  const me = { pid: process.pid, startTime: procStat(process.pid)?.startTime ?? null };
  try {
    writeFileAtomic(paths.lock, `${JSON.stringify(me)}\n`);
  } catch (e) {
    server?.close();
    throw e;
  }
  return () => {
    if (readJson(paths.lock)?.pid === process.pid) rmSync(paths.lock, { force: true });
    server?.close();
  };
}

/**
 * An Azurite left by a killed `local` (its parent-death guard normally stops it within a second): if the pid
 * saved in DIR/azurite.pid is still an Azurite on this DIR (/proc/<pid>/cmdline), SIGTERM it so that it
 * flushes its data, and wait until it is gone; SIGKILL only after `graceMs`.
 */
export async function stopOrphanAzurite(
  paths: StatePaths,
  log: (line: string) => void,
  graceMs = 20_000,
): Promise<void> {
  const saved = readJson(paths.azuritePid);
  const pid = saved?.pid;
  if (typeof pid !== 'number' || pid === process.pid || !processIsAlive(pid)) return;
  let cmdline: string[];
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return;
  }
  const isOurs =
    cmdline.some((a) => /azurite[\\/]dist[\\/]src[\\/]azurite\.js$/.test(a)) &&
    cmdline[cmdline.indexOf('--location') + 1] === paths.azurite;
  if (!isOurs) return;
  log(`local: stopping the Azurite left by the previous run (pid ${pid}) so that it saves its data`);
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (processIsAlive(pid)) {
    if (Date.now() > deadline) {
      log(`local: Azurite pid ${pid} did not stop within ${graceMs} ms; killing it`);
      process.kill(pid, 'SIGKILL');
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Every saved port must be free on 127.0.0.1 before anything starts; otherwise one line naming it. */
export async function assertPortsFree(ports: LocalPorts, configPath: string): Promise<void> {
  const names: Record<keyof LocalPorts, string> = {
    app: 'the app',
    arm: 'the ARM emulator',
    blob: 'Azurite blob',
    queue: 'Azurite queue',
    table: 'Azurite table',
  };
  for (const [key, p] of Object.entries(ports) as [keyof LocalPorts, number][]) {
    const error = await new Promise<NodeJS.ErrnoException | undefined>((done) => {
      const srv = createServer();
      srv.once('error', (e: NodeJS.ErrnoException) => done(e));
      srv.listen(p, '127.0.0.1', () => srv.close(() => done(undefined)));
    });
    if (error) {
      throw new LocalPortError(
        `--state: port ${p} (${names[key]}, saved in ${configPath}) is ${error.code === 'EADDRINUSE' ? 'in use by another process' : `not available (${error.code})`}; stop that process (\`ss -ltnp 'sport = :${p}'\` shows it) or give a new --state directory`,
      );
    }
  }
}

/** Five distinct free ports; the app's is `appPort` when given (not 0). */
export async function chooseLocalPorts(appPort: number): Promise<LocalPorts> {
  const taken = new Set<number>(appPort > 0 ? [appPort] : []);
  const next = async () => {
    for (;;) {
      const p = await freePort();
      if (!taken.has(p)) {
        taken.add(p);
        return p;
      }
    }
  };
  const app = appPort > 0 ? appPort : await next();
  return { app, arm: await next(), blob: await next(), queue: await next(), table: await next() };
}

export interface StateRequest {
  /** The --state argument as given (for messages). */
  readonly dir: string;
  readonly timeScale: number;
  /** --time-scale was given (otherwise a restart keeps the saved scale). */
  readonly timeScaleGiven: boolean;
  /** --port (0 = not given / any). */
  readonly port: number;
  readonly scenarioFile?: string | undefined;
  readonly log: (line: string) => void;
  readonly nowMs?: number;
}

export interface PreparedLocalState {
  readonly paths: StatePaths;
  readonly config: LocalStateFile;
  readonly firstStart: boolean;
  readonly clock: PersistedClock;
  release(): void;
}

/**
 * Opens DIR for this run: lock, first-start creation (ports, key, clock, scenario copy) or the checks that
 * the options agree with the saved state, the clock rebased when --time-scale changed, the previous
 * Azurite stopped, the saved ports free. The scenario is written by the caller (`writeScenarioCopy`).
 */
export async function prepareLocalState(
  r: StateRequest,
  writeScenarioCopy: (path: string) => void,
): Promise<PreparedLocalState> {
  const { paths, saved } = openStateDir(r.dir);
  const release = await acquireStateLock(paths, r.dir);
  try {
    const now = r.nowMs ?? Date.now();
    let config: LocalStateFile;
    if (saved) {
      if (r.port !== 0 && r.port !== saved.ports.app) {
        throw new LocalStateError(
          `--port ${r.port}: ${paths.config} fixes the app's port at ${saved.ports.app} (saved URLs name it); drop --port or give a new --state directory`,
        );
      }
      const given = r.scenarioFile ? resolve(r.scenarioFile) : undefined;
      if (given !== undefined && given !== saved.scenarioFile) {
        throw new LocalStateError(
          `--scenario ${r.scenarioFile}: a scenario applies only on the first start of a --state directory (${r.dir} started with ${saved.scenarioFile ?? 'the built-in scenario'}); drop --scenario or give a new --state directory`,
        );
      }
      const scale = r.timeScaleGiven ? r.timeScale : saved.clock.scale;
      config = {
        ...saved,
        clock: scale !== saved.clock.scale ? rebaseClock(saved.clock, scale, now) : saved.clock,
      };
      if (config.clock !== saved.clock) writeFileAtomic(paths.config, serializeLocalStateFile(config));
      if (!existsSync(paths.scenario)) {
        throw new LocalStateError(
          `--state ${r.dir}: scenario.json is missing next to local.json; restore it or give a new --state directory`,
        );
      }
    } else {
      writeScenarioCopy(paths.scenario);
      config = {
        version: LOCAL_STATE_VERSION,
        ports: await chooseLocalPorts(r.port),
        functionKey: randomBytes(24).toString('base64url'),
        taskHub: LOCAL_TASK_HUB,
        clock: { epochVirtual: LOCAL_STATE_EPOCH, epochReal: now, scale: r.timeScale },
        ...(r.scenarioFile ? { scenarioFile: resolve(r.scenarioFile) } : {}),
      };
      writeFileAtomic(paths.config, serializeLocalStateFile(config));
    }
    mkdirSync(paths.durable, { recursive: true, mode: 0o700 });
    await stopOrphanAzurite(paths, r.log);
    await assertPortsFree(config.ports, paths.config);
    let current = config;
    const clock = new PersistedClock(config.clock, (c) => {
      current = { ...current, clock: c };
      writeFileAtomic(paths.config, serializeLocalStateFile(current));
    });
    return { paths, config, firstStart: saved === undefined, clock, release };
  } catch (e) {
    release();
    throw e;
  }
}
