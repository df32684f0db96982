/**
 * The CI subset of the fault matrix (`npm run faults` runs all of it): the calls are discovered from the
 * recorded traffic of a successful build, then a fixed sample of cells - the calls that create or remove
 * privilege, start the run, write the record and archive the log, each with a transient and a permanent
 * fault, on the success path and on the customizer-failure path - must keep the guarantees: terminal
 * record with its reason, no Image Contributor assignment left once the janitor ran, logs archived when
 * the run wrote them (or, for a permanent archive failure, kept in staging with LogArchivalFailed
 * recorded). Role propagation delays are on (drawn per cell in 30-600 virtual seconds, as in
 * `npm run faults`). Everything the builds produced is then scanned for secrets.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AppCall,
  discoverCalls,
  type FaultEnvironment,
  type MatrixFault,
  type RunPath,
  runCell,
  startFaultEnvironment,
} from '../../src/faults/matrix.js';
import { startArmEmulator } from '../../src/local/arm-emulator/index.js';
import { STAGING_ACCOUNT_POOL } from '../../src/local/azurite.js';
import { VirtualClock } from '../../src/local/clock.js';
import { appSettingsFor } from '../../src/local/scenarios/index.js';
import { sharedAzurite } from '../support/azurite.js';

let e: FaultEnvironment;
let calls: AppCall[];
let stopEmulator: () => Promise<void>;

beforeAll(async () => {
  const a = sharedAzurite();
  const clock = new VirtualClock();
  const certificate = { cert: a.caCertPem, key: await readFile(a.keyPath, 'utf8') };
  const emulator = await startArmEmulator({
    certificate: { ...certificate, certPath: a.certPath, keyPath: a.keyPath },
    clock,
    storage: {
      blobEndpoint: a.endpoints.blob,
      stagingAccounts: a.accounts.filter((x) => STAGING_ACCOUNT_POOL.includes(x)),
    },
  });
  stopEmulator = () => emulator.stop();
  e = await startFaultEnvironment({
    emulator,
    clock,
    appSettings: appSettingsFor(emulator, {
      blobAccountUrl: `${a.endpoints.blob}/devstoreaccount1`,
      tableEndpoint: `${a.endpoints.table}/devstoreaccount1`,
    }),
    certificate,
    azurite: { blob: new URL(a.endpoints.blob).origin, table: new URL(a.endpoints.table).origin },
  });
  calls = await discoverCalls(e);
}, 180_000);

afterAll(async () => {
  await e?.stop();
  await stopEmulator?.();
});

function call(pattern: RegExp): AppCall {
  const c = calls.find((x) => pattern.test(x.label));
  if (!c) throw new Error(`no discovered call matches ${pattern}: ${calls.map((x) => x.label).join('\n')}`);
  return c;
}

describe('fault matrix (CI subset)', () => {
  it('discovers the calls of a successful build from its recorded traffic', () => {
    const labels = calls.map((c) => c.label);
    for (const expected of [
      /^PUT .*\/imageTemplates\/\{\}$/,
      /^POST .*\/imageTemplates\/\{\}\/run$/,
      /^PUT .*rg-jumpbox-images\/providers\/Microsoft\.Authorization\/roleAssignments\/\{\}$/,
      /^DELETE .*rg-jumpbox-images\/providers\/Microsoft\.Authorization\/roleAssignments\/\{\}$/,
      /^table PUT /,
      /^blob PUT .*comp=blocklist$/,
    ]) {
      expect(
        labels.some((l) => expected.test(l)),
        String(expected),
      ).toBe(true);
    }
    // No duplicates: one entry per distinct call.
    expect(new Set(labels).size).toBe(labels.length);
  });

  const sample: [RegExp, MatrixFault, RunPath][] = [
    [
      /^PUT .*rg-jumpbox-images\/providers\/Microsoft\.Authorization\/roleAssignments\/\{\}$/,
      '503',
      'success',
    ],
    [
      /^PUT .*rg-jumpbox-images\/providers\/Microsoft\.Authorization\/roleAssignments\/\{\}$/,
      '403',
      'success',
    ],
    [/^POST .*\/imageTemplates\/\{\}\/run$/, 'reset', 'success'],
    [/^PUT .*\/imageTemplates\/\{\}$/, 'slow', 'success'],
    // Found by the matrix: the first run request outlives the client timeout but starts the run; the
    // retry then got 409 (a build in progress) and the build failed with its logs never archived.
    [/^POST .*\/imageTemplates\/\{\}\/run$/, 'slow', 'success'],
    [/^POST .*\/imageTemplates\/\{\}\/run$/, '404', 'customizer-failure'],
    [/^DELETE .*roleAssignments\/\{\}$/, '429', 'customizer-failure'],
    [/^DELETE .*roleAssignments\/\{\}$/, '403', 'success'],
    [/^table PUT /, '403', 'success'],
    [/^blob PUT .*comp=blocklist$/, '500', 'customizer-failure'],
    [/^blob PUT .*comp=blocklist$/, '403', 'success'],
    // Found by the matrix with role propagation delays on: a permanent 404 on the run's operation status
    // failed the build while its run went on (log never archived); the step now reads lastRunStatus.
    [/^GET .*\/locations\/[^/]+\/operations\/\{\}$/, '404', 'success'],
    // A 404 on the staging group's account listing while the template exists: LogArchivalFailed recorded
    // (logArchivalError), the log kept in staging - not "no logs".
    [/^GET .*\/providers\/Microsoft\.Storage\/storageAccounts$/, '404', 'success'],
    // Every write of the records table refused while the build ran: the janitor writes the terminal record
    // from the ended instance.
    [/^table POST \/[^/]+\/\{table\}$/, '403', 'success'],
  ];
  for (const [pattern, fault, runPath] of sample) {
    it(`${runPath}, ${fault} on ${pattern.source.slice(1, 60)}: terminal record with reason, no grant left, logs kept`, async () => {
      const r = await runCell(e, call(pattern), fault, runPath);
      expect(r.faultHits, 'the fault was hit').toBeGreaterThan(0);
      expect(r.problems).toEqual([]);
      expect(r).toMatchObject({ passed: true, leakedGrants: 0, nonTerminalRecord: false, lostLogs: false });
      if (runPath === 'customizer-failure') expect(r.result).toBe('Failed');
      // Transient faults (slower than the client timeout included) are absorbed by the retries.
      if (runPath === 'success' && !['403', '404'].includes(fault)) expect(r.result).toBe('Succeeded');
    }, 120_000);
  }

  it('no secret in any log line, record, notification, archived blob name or metadata the builds produced', async () => {
    await e.stop();
    expect(e.scanner.count).toBeGreaterThan(100);
    expect(e.notifications.length).toBeGreaterThan(0);
    expect(e.scanner.findings).toEqual([]);
  });
});
