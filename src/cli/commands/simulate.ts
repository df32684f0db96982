/**
 * `npm run simulate` = `jumpbox-builder simulate [--fail customizer|validation|distribution|timeout|vulnerability]
 * [--definition NAME] [--scenario FILE] [--rbac-delay SECONDS] [--json]`: the main job end to end on the
 * embedded defaults (or a scenario file, docs/simulate.md), with no Azure. Role assignments take 30 s to
 * 10 simulated minutes to count, as in Azure, unless --rbac-delay or the scenario says otherwise.
 *
 * Starts Azurite, the ARM emulator (default scenario) and the local Durable host with the app's real
 * registrations, starts a build through the app's own POST /api/builds, shows live progress (a bar on a
 * TTY, plain lines otherwise), and ends with a summary. Exit code 0 when the build succeeded, 1 when it
 * did not (a --fail run), 2 on usage errors. With --json, stdout carries only one final JSON line.
 *
 * Virtual time moves in steps between which the host settles, so a 40-minute build takes seconds.
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getAzureClients, resetAzureClients, setCredentialOverride } from '../../azure/clients.js';
import { getConfig, resetConfigForTests } from '../../config.js';
import type { ArmEmulator } from '../../local/arm-emulator/index.js';
import { type LocalDurableHost, startLocalDurableHost } from '../../local/durable-host/index.js';
import { type LocalAzure, startLocalAzure } from '../../local/local-azure.js';
import { CLI_DEFAULT_SCENARIO, loadScenario } from '../../local/scenarios/index.js';
import { LocalTestCredential } from '../../local/test-credential.js';
import {
  type BuildOutput,
  type BuildProgress,
  buildInstanceId,
  type VulnerabilityCounts,
} from '../../orchestration/contracts.js';
import type { PollProgress } from '../../orchestration/poll-run.js';
import { POLL_RUN_ORCHESTRATOR } from '../../orchestration/steps.js';
import { progressPercent } from '../build-progress.js';
import { type CliCommand, UsageError } from '../dispatch.js';
import { ProgressDisplay } from '../progress.js';

export { progressPercent };

export const FAILURES = ['customizer', 'validation', 'distribution', 'timeout', 'vulnerability'] as const;
export type SimulatedFailure = (typeof FAILURES)[number];

export interface SimulateArgs {
  readonly fail?: SimulatedFailure | undefined;
  readonly definition: string;
  readonly json: boolean;
  /** A scenario JSON file (missing parts from the default scenario). */
  readonly scenario?: string | undefined;
  /** Role assignment propagation delay in seconds; overrides the scenario's. */
  readonly rbacDelay?: number | undefined;
}

export const SIMULATE_USAGE =
  'usage: jumpbox-builder simulate [--fail customizer|validation|distribution|timeout|vulnerability] [--definition NAME] [--scenario FILE] [--rbac-delay SECONDS] [--json]';

export const SIMULATE_HELP = `${SIMULATE_USAGE}

Runs one build end to end on emulated Azure (Azurite, the ARM emulator, the local Durable host with the
app's real registrations) on virtual time, then prints a summary. Nothing reaches Azure.
  --fail KIND         make the build fail: customizer, validation, distribution (the grant is removed
                      mid-build), timeout, or vulnerability (the image has openssh-server with
                      CVE-2024-6387 and a fixed version exists: the scan's gate stops the build)
  --definition NAME   image definition to build (default aks-jumpbox)
  --scenario FILE     emulated Azure from a scenario JSON (start from: npm run cli -- scenario --print-default)
  --rbac-delay S      role-assignment propagation delay in simulated seconds (default: a realistic 30-600 s)
  --json              progress and summary on stderr; one JSON line on stdout

Exit codes: 0 the build succeeded and no Image Contributor grant is left; 1 otherwise (e.g. a --fail run);
2 usage error.
`;

export function parseSimulateArgs(argv: readonly string[]): SimulateArgs {
  let fail: SimulatedFailure | undefined;
  let definition = 'aks-jumpbox';
  let json = false;
  let scenario: string | undefined;
  let rbacDelay: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--'))
        throw new UsageError(`${arg} needs a value; ${SIMULATE_USAGE}`);
      return v;
    };
    if (arg === '--fail') {
      const v = value();
      if (!(FAILURES as readonly string[]).includes(v)) {
        throw new UsageError(`--fail must be one of ${FAILURES.join(', ')} (got "${v}")`);
      }
      fail = v as SimulatedFailure;
    } else if (arg === '--definition') {
      definition = value();
      if (!/^[a-z][a-z0-9-]{1,30}[a-z0-9]$/.test(definition)) {
        throw new UsageError(
          `--definition must be a definition name: 3-32 lowercase letters, digits and hyphens (got "${definition}")`,
        );
      }
    } else if (arg === '--scenario') scenario = value();
    else if (arg === '--rbac-delay') {
      const raw = value();
      rbacDelay = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(rbacDelay) || rbacDelay < 0) {
        throw new UsageError(
          `--rbac-delay must be a number of simulated seconds >= 0 before a role assignment change counts (got "${raw}")`,
        );
      }
    } else if (arg === '--json') json = true;
    else throw new UsageError(`unknown option ${arg}; ${SIMULATE_USAGE}`);
  }
  return { fail, definition, json, scenario, rbacDelay };
}

function minutes(ms: number): string {
  return `${(ms / 60000).toFixed(1)} min`;
}

export interface SimulationResult {
  readonly status: string;
  readonly buildId: string;
  readonly imageId: string | null;
  readonly logs: readonly string[];
  readonly imageContributorAssignmentsLeft: number;
  readonly armRequests: number;
  readonly simulatedMinutes: number;
  readonly error?: { code: string; message: string } | undefined;
  /** Archived SBOM and provenance (blob URLs) and the vulnerability counts (docs/provenance.md). */
  readonly sbom: string | null;
  readonly provenance: string | null;
  readonly vulnerabilities: VulnerabilityCounts | null;
}

export interface SimulationIo {
  /** Progress and summary lines (stderr with --json, stdout otherwise). */
  readonly out: (s: string) => void;
  /** The final JSON line (stdout). */
  readonly json: (s: string) => void;
  readonly isTTY: boolean;
  /** Terminal width for the progress line (default 80). */
  readonly columns?: () => number | undefined;
}

function appEntryModule(): string {
  const ext = extname(fileURLToPath(import.meta.url));
  return fileURLToPath(new URL(`../../functions/index${ext}`, import.meta.url));
}

/** Image Contributor assignments on the destination resource group, from the emulator's state. */
function imageContributorAssignments(emulator: ArmEmulator, settings: Record<string, string>) {
  const scope =
    `/subscriptions/${emulator.subscriptionId}/resourceGroups/${settings.IMAGE_DESTINATION_RESOURCE_GROUP}`.toLowerCase();
  const roleId = settings.IMAGE_CONTRIBUTOR_ROLE_ID!;
  const role = roleId.slice(roleId.lastIndexOf('/') + 1).toLowerCase();
  return emulator.state
    .roleAssignments()
    .filter((a) => a.scope.toLowerCase() === scope && a.roleDefinitionId.toLowerCase().endsWith(role));
}

/** Runs one simulated build on freshly started stand-ins; everything is stopped before it returns. */
export async function runSimulation(args: SimulateArgs, io: SimulationIo): Promise<SimulationResult> {
  const scenario = args.scenario ? loadScenario(args.scenario, CLI_DEFAULT_SCENARIO) : CLI_DEFAULT_SCENARIO;
  const azure: LocalAzure = await startLocalAzure({
    scenario,
    ...(args.rbacDelay !== undefined ? { rbacPropagationSeconds: args.rbacDelay } : {}),
  });
  let host: LocalDurableHost | undefined;
  try {
    setCredentialOverride(new LocalTestCredential());
    resetConfigForTests();
    const settings: Record<string, string> = {
      ...azure.appSettings,
      DURABLE_TASK_HUB_NAME: 'jumpboxsimulate',
      IMAGE_DEFINITIONS: JSON.stringify([{ name: args.definition }]),
    };
    const instanceId = buildInstanceId(args.definition);
    let lastLine = '';
    let started = azure.clock.now();
    const display = new ProgressDisplay(
      { write: io.out },
      { tty: io.isTTY, colour: io.isTTY, ...(io.columns ? { columns: io.columns } : {}) },
    );
    let finished = false;
    let pollSubState: string | undefined;
    const log = (line: string) => display.log(line);
    const show = (progress: BuildProgress | undefined) => {
      // Status reads still in flight when the build ended must not redraw a stale state.
      if (finished || !progress || progress.buildId === undefined) return;
      const elapsed = minutes(azure.clock.now() - started);
      // While polling, the run's sub-state comes from the polling sub-orchestration (the build's own
      // status shows it once the run ended).
      const subState = progress.runSubState ?? (progress.phase === 'polling' ? pollSubState : undefined);
      const label = `${progress.phase}${subState ? ` / ${subState}` : ''}`;
      if (io.isTTY) {
        display.update({
          percent: progressPercent({ ...progress, runSubState: subState }),
          label,
          detail: `${elapsed} simulated`,
        });
      } else if (label !== lastLine) {
        io.out(`[${elapsed.padStart(9)}] ${label}\n`);
      }
      lastLine = label;
    };
    let hostRef: LocalDurableHost | undefined;
    host = await startLocalDurableHost({
      entryModules: [appEntryModule()],
      clock: azure.clock,
      env: settings,
      // Every committed episode of the build shows its phase (several happen at one virtual instant).
      onEpisode: (info) => {
        if (!hostRef) return;
        if (info.name === POLL_RUN_ORCHESTRATOR && info.instanceId.startsWith(`${instanceId}:`)) {
          const host = hostRef;
          void host.getStatus(info.instanceId).then((st) => {
            pollSubState = (st?.customStatus as PollProgress | undefined)?.runSubState ?? pollSubState;
            return host.getStatus(instanceId).then((b) => show(b?.customStatus as BuildProgress | undefined));
          });
          return;
        }
        if (info.instanceId !== instanceId) return;
        void hostRef.getStatus(instanceId).then((st) => show(st?.customStatus as BuildProgress | undefined));
      },
    });
    hostRef = host;
    const emulator = azure.emulator;
    const control = emulator.control;
    if (args.fail === 'customizer') control.setBuildBehaviour({ outcome: 'customizer-failure' });
    if (args.fail === 'validation') control.setBuildBehaviour({ outcome: 'validation-failure' });
    if (args.fail === 'timeout') control.setBuildBehaviour({ outcome: 'timeout' });
    if (args.fail === 'vulnerability') control.setBuildBehaviour({ findings: 'openssh' });

    started = azure.clock.now();
    log(
      `simulate: POST /api/builds {"definition":"${args.definition}"} on the app (local Durable host ${host.baseUrl})`,
    );
    const res = await fetch(`${host.baseUrl}/api/builds`, {
      method: 'POST',
      headers: { 'x-functions-key': host.functionKey, 'content-type': 'application/json' },
      body: JSON.stringify({
        definition: args.definition,
        reason: args.fail ? `simulation (--fail ${args.fail})` : 'simulation',
        force: true,
      }),
    });
    const accepted = (await res.json()) as { buildId?: string; detail?: string };
    if (res.status !== 202 || !accepted.buildId) {
      throw new Error(
        `POST /api/builds answered ${res.status}: ${accepted.detail ?? JSON.stringify(accepted)}`,
      );
    }
    const buildId = accepted.buildId;
    log(`simulate: build ${buildId} of ${args.definition} accepted (202)`);

    let contributorRemoved = false;
    let output: BuildOutput | undefined;
    let runtimeStatus = '';
    let hostFailure: { code: string; message: string } | undefined;
    for (let step = 0; step < 5000; step++) {
      await host.settle();
      const s = await host.getStatus(instanceId);
      const progress = s?.customStatus as BuildProgress | undefined;
      if (args.fail === 'distribution' && !contributorRemoved) {
        const t = emulator.state.imageTemplates().find((x) => x.lastRunStatus?.runSubState === 'Customizing');
        if (t) {
          // Someone removes the Image Contributor grant mid-build: Image Builder fails at distribution.
          const clients = getAzureClients(getConfig());
          for (const a of imageContributorAssignments(emulator, settings)) {
            await clients.authorization.roleAssignments.delete(a.scope, a.name);
          }
          contributorRemoved = true;
          log('simulate: the Image Contributor grant was removed during the build (--fail distribution)');
        }
      }
      show(progress);
      if (s && ['Completed', 'Failed', 'Terminated', 'Canceled'].includes(s.runtimeStatus)) {
        runtimeStatus = s.runtimeStatus;
        if (s.runtimeStatus === 'Completed') output = s.output as BuildOutput | undefined;
        else
          hostFailure = {
            code: `Orchestration${s.runtimeStatus}`,
            message: JSON.stringify(s.output ?? null).slice(0, 500),
          };
        break;
      }
      azure.clock.advanceBy(60_000);
      // A little real time per simulated minute so that progress is visible on a terminal.
      if (io.isTTY) await new Promise((r) => setTimeout(r, 15));
    }
    finished = true;
    const simulatedMinutes = Math.round(((azure.clock.now() - started) / 60000) * 10) / 10;
    const finalStatus = output?.result ?? (runtimeStatus || 'Unknown');
    if (io.isTTY) {
      display.finish(
        `build ${buildId}: ${finalStatus}${output?.upToDate ? ' (up to date, nothing built)' : ''} after ${simulatedMinutes} min simulated`,
        finalStatus === 'Succeeded',
      );
    }
    const left = imageContributorAssignments(emulator, settings).length;
    const result: SimulationResult = {
      status: finalStatus,
      buildId,
      imageId: output?.imageId ?? null,
      logs: output?.logs ?? [],
      imageContributorAssignmentsLeft: left,
      armRequests: emulator.state.requests().length,
      simulatedMinutes,
      error: output?.error ?? hostFailure,
      sbom: output?.sbom ?? null,
      provenance: output?.provenance ?? null,
      vulnerabilities: output?.vulnerabilities ?? null,
    };
    return result;
  } finally {
    await host?.stop();
    await azure.stop();
    setCredentialOverride(undefined);
    resetAzureClients();
  }
}

export function summaryLines(r: SimulationResult): string[] {
  const lines = [
    '',
    `Build ${r.buildId}: ${r.status}`,
    `  image:               ${r.imageId ?? '(none)'}`,
    `  archived logs:       ${r.logs.length > 0 ? r.logs[0]!.replace(/\/[^/]+$/, '/') : '(none)'}`,
    ...r.logs.map((l) => `                       ${l.slice(l.lastIndexOf('/') + 1)}`),
    `  Image Contributor:   ${r.imageContributorAssignmentsLeft === 0 ? 'removed (0 assignments left)' : `${r.imageContributorAssignmentsLeft} assignment(s) LEFT`}`,
    `  SBOM:                ${r.sbom ?? '(none)'}`,
    `  provenance:          ${r.provenance ?? '(none)'}`,
    `  vulnerabilities:     ${
      r.vulnerabilities
        ? `critical ${r.vulnerabilities.critical}, high ${r.vulnerabilities.high}, medium ${r.vulnerabilities.medium}, low ${r.vulnerabilities.low}, unknown ${r.vulnerabilities.unknown}; ${r.vulnerabilities.blocking.length} blocking`
        : '(no report)'
    }`,
    ...(r.vulnerabilities?.blocking ?? []).map((b) => `    blocking:          ${b}`),
    `  ARM requests:        ${r.armRequests}`,
    `  simulated duration:  ${r.simulatedMinutes} min`,
  ];
  if (r.error) lines.push(`  reason:              ${r.error.code}: ${r.error.message}`);
  return lines;
}

export const command: CliCommand = {
  summary:
    'simulate one build end to end on emulated Azure (--fail ..., --scenario FILE, --rbac-delay S, --json)',
  usage: SIMULATE_HELP,
  async run(argv) {
    const args = parseSimulateArgs(argv);
    if (args.scenario) {
      try {
        loadScenario(args.scenario, CLI_DEFAULT_SCENARIO);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
    }
    const io: SimulationIo = {
      out: (s) => (args.json ? process.stderr : process.stdout).write(s),
      json: (s) => process.stdout.write(s),
      isTTY: !args.json && process.stdout.isTTY === true,
      columns: () => process.stdout.columns,
    };
    const r = await runSimulation(args, io);
    io.out(`${summaryLines(r).join('\n')}\n`);
    if (args.json) {
      io.json(
        `${JSON.stringify({
          status: r.status,
          buildId: r.buildId,
          imageId: r.imageId,
          logs: r.logs,
          imageContributorAssignmentsLeft: r.imageContributorAssignmentsLeft,
          armRequests: r.armRequests,
          simulatedMinutes: r.simulatedMinutes,
          sbom: r.sbom,
          provenance: r.provenance,
          vulnerabilities: r.vulnerabilities,
          ...(r.error ? { error: r.error } : {}),
        })}\n`,
      );
    }
    const code = r.status === 'Succeeded' && r.imageContributorAssignmentsLeft === 0 ? 0 : 1;
    // Keep-alive sockets of the SDK clients must not hold the process open once the work is done.
    setTimeout(() => process.exit(code), 500).unref();
    return code;
  },
};
