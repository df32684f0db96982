import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BuildRecordStore, rowKeyFor } from '../../src/records/build-records.js';
import { clientsForAzurite, tableEndpoint } from '../support/azurite.js';

function freshStore(): BuildRecordStore {
  const name = `b${randomUUID().replace(/-/g, '').slice(0, 20)}`;
  return new BuildRecordStore(clientsForAzurite().table(tableEndpoint(), name));
}

const base = { trigger: 'http' as const, reason: 'test', requestedBy: 'pipeline' };

describe('rowKeyFor', () => {
  it('sorts later requests first (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4_102_444_800_000 }),
        fc.integer({ min: 0, max: 4_102_444_800_000 }),
        (a, b) => {
          fc.pre(a !== b);
          const ka = rowKeyFor({ buildId: 'x', requestedAt: new Date(a).toISOString() });
          const kb = rowKeyFor({ buildId: 'x', requestedAt: new Date(b).toISOString() });
          expect(ka < kb).toBe(a > b);
        },
      ),
    );
  });

  it('rejects ids that Table storage forbids in keys, naming the field', () => {
    expect(() => rowKeyFor({ buildId: 'a/b', requestedAt: '2026-01-01T00:00:00Z' })).toThrow(/buildId/);
    expect(() => rowKeyFor({ buildId: 'ok', requestedAt: 'yesterday' })).toThrow(/requestedAt/);
  });
});

describe('BuildRecordStore against Azurite', () => {
  it('creates, updates (merging phases and logs) and gets a build', async () => {
    const store = freshStore();
    const ref = { buildId: 'b-1', definition: 'aks-jumpbox', requestedAt: '2026-01-01T10:00:00.000Z' };
    await store.create({ ...ref, ...base });
    await store.update(ref, {
      status: 'Running',
      phase: 'template',
      phaseTimestamps: { preflight: '2026-01-01T10:00:01.000Z' },
      logUrls: ['https://a/1'],
    });
    await store.update(ref, {
      phaseTimestamps: { template: '2026-01-01T10:00:05.000Z' },
      logUrls: ['https://a/1', 'https://a/2'],
      templateName: 'tpl',
    });
    const rec = await store.get('b-1');
    expect(rec).toMatchObject({
      buildId: 'b-1',
      definition: 'aks-jumpbox',
      status: 'Running',
      phase: 'template',
      templateName: 'tpl',
      trigger: 'http',
      requestedBy: 'pipeline',
      logUrls: ['https://a/1', 'https://a/2'],
      phaseTimestamps: { preflight: '2026-01-01T10:00:01.000Z', template: '2026-01-01T10:00:05.000Z' },
    });
    expect(await store.get('nope')).toBeUndefined();
  });

  it('keeps why the logs were not archived (logArchivalError) next to the build error, and leaves it when unset', async () => {
    const store = freshStore();
    const ref = { buildId: 'b-logs', definition: 'aks-jumpbox', requestedAt: '2026-01-01T10:00:00.000Z' };
    const logArchivalError = { code: 'LogArchivalFailed', message: 'StagingNotFound: rg-staging 404' };
    await store.update(ref, {
      ...base,
      status: 'Failed',
      phase: 'done',
      error: { code: 'RunFailed', message: 'customizer failed' },
      logArchivalError,
    });
    await store.update(ref, { polls: 3 });
    expect(await store.get('b-logs')).toMatchObject({ error: { code: 'RunFailed' }, logArchivalError });
    await store.update({ ...ref, buildId: 'b-ok' }, { ...base, status: 'Succeeded' });
    expect((await store.get('b-ok'))?.logArchivalError).toBeUndefined();
  });

  it('keeps the SHA-256 of the archived SBOM, report and provenance; a record written without them reads back without them', async () => {
    const store = freshStore();
    const ref = { buildId: 'b-sc', definition: 'aks-jumpbox', requestedAt: '2026-01-01T10:00:00.000Z' };
    const hex = (c: string) => c.repeat(64);
    const supplyChain = {
      sbom: 'https://st/aib-logs/aks-jumpbox/b-sc/sbom.cdx.json',
      sbomSha256: hex('a'),
      provenance: 'https://st/aib-logs/aks-jumpbox/b-sc/provenance.json',
      provenanceSha256: hex('b'),
      vulnerabilities: {
        critical: 0,
        high: 0,
        medium: 0,
        low: 3,
        unknown: 0,
        blocking: [],
        report: 'https://st/aib-logs/aks-jumpbox/b-sc/vulnerabilities.json',
      },
      vulnerabilitiesSha256: hex('c'),
    };
    await store.create({ ...ref, ...base });
    await store.update(ref, { status: 'Succeeded', phase: 'done', ...supplyChain });
    // A later patch without them (Merge semantics in update) leaves them as they are.
    await store.update(ref, { polls: 7 });
    expect(await store.get('b-sc')).toMatchObject({ ...supplyChain, polls: 7 });
    expect((await store.list({ definition: 'aks-jumpbox' }))[0]).toMatchObject(supplyChain);

    // A record from before the fields existed: links only, the hashes read back as absent.
    const old = { ...ref, buildId: 'b-old' };
    await store.update(old, {
      ...base,
      status: 'Succeeded',
      sbom: supplyChain.sbom,
      provenance: supplyChain.provenance,
    });
    const read = await store.get('b-old');
    expect(read).toMatchObject({ provenance: supplyChain.provenance, sbom: supplyChain.sbom });
    expect(read?.provenanceSha256).toBeUndefined();
    expect(read?.sbomSha256).toBeUndefined();
    expect(read?.vulnerabilitiesSha256).toBeUndefined();
  });

  it('update creates the row when the entry point did not', async () => {
    const store = freshStore();
    const ref = { buildId: 'b-2', definition: 'd', requestedAt: '2026-01-01T10:00:00.000Z' };
    await store.update(ref, { ...base, status: 'Failed', error: { code: 'X', message: 'boom' } });
    expect(await store.get('b-2')).toMatchObject({ status: 'Failed', error: { code: 'X', message: 'boom' } });
  });

  it('refuses a duplicate create', async () => {
    const store = freshStore();
    const ref = { buildId: 'dup', definition: 'd', requestedAt: '2026-01-01T10:00:00.000Z' };
    await store.create({ ...ref, ...base });
    await expect(store.create({ ...ref, ...base })).rejects.toMatchObject({ statusCode: 409 });
  });

  it('lists newest first, by definition and status, with top; lastSuccessful and durations', async () => {
    const store = freshStore();
    const rows = [
      { id: 'a', def: 'one', at: '2026-01-01T00:00:00.000Z', status: 'Succeeded' as const, d: 100 },
      { id: 'b', def: 'two', at: '2026-01-02T00:00:00.000Z', status: 'Failed' as const, d: 5 },
      { id: 'c', def: 'one', at: '2026-01-03T00:00:00.000Z', status: 'Succeeded' as const, d: 300 },
      { id: 'd', def: 'one', at: '2026-01-04T00:00:00.000Z', status: 'Failed' as const, d: 7 },
      { id: 'e', def: 'two', at: '2026-01-05T00:00:00.000Z', status: 'Running' as const, d: undefined },
    ];
    // Insert in a scrambled order: ordering must come from the keys, not insertion.
    for (const r of [rows[2]!, rows[0]!, rows[4]!, rows[1]!, rows[3]!]) {
      await store.create({
        buildId: r.id,
        definition: r.def,
        requestedAt: r.at,
        ...base,
        status: r.status,
        runDurationSeconds: r.d,
        durationSeconds: r.d === undefined ? undefined : r.d + 60,
      });
    }
    expect((await store.list()).map((r) => r.buildId)).toEqual(['e', 'd', 'c', 'b', 'a']);
    expect((await store.list({ top: 2 })).map((r) => r.buildId)).toEqual(['e', 'd']);
    expect((await store.list({ definition: 'one' })).map((r) => r.buildId)).toEqual(['d', 'c', 'a']);
    expect((await store.list({ definition: 'one', top: 1 })).map((r) => r.buildId)).toEqual(['d']);
    expect((await store.list({ status: 'Failed' })).map((r) => r.buildId)).toEqual(['d', 'b']);
    expect((await store.lastSuccessful('one'))?.buildId).toBe('c');
    expect(await store.lastSuccessful('two')).toBeUndefined();
    expect(await store.recentSuccessfulDurations('one')).toEqual([300, 100]);
  });
});
