import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { imageDefinitionSchema } from '../../src/image/definition.js';
import { buildInstanceId } from '../../src/orchestration/contracts.js';
import { checkBaseImages, decideBaseImageRebuild } from '../../src/triggers/base-image-watcher.js';
import { rebuildAllDefinitions } from '../../src/triggers/monthly-rebuild.js';
import { FakeRecords, FakeTaskHub } from './fakes.js';

const log = { info: () => undefined, warn: () => undefined };

describe('decideBaseImageRebuild', () => {
  it('rebuilds for 1.0.10 after 1.0.9 (text order would say no)', () => {
    expect(decideBaseImageRebuild(['1.0.8', '1.0.10', '1.0.9'], '1.0.9')).toMatchObject({
      rebuild: true,
      newest: '1.0.10',
    });
    expect(decideBaseImageRebuild(['1.0.8', '1.0.9'], '1.0.10')).toMatchObject({
      rebuild: false,
      newest: '1.0.9',
    });
  });

  it('rebuilds when nothing was built yet, not when nothing is published', () => {
    expect(decideBaseImageRebuild(['1.0.0'], undefined).rebuild).toBe(true);
    expect(decideBaseImageRebuild([], '1.0.0').rebuild).toBe(false);
  });

  it('rebuilds exactly when some published version is greater than the built one (property)', () => {
    const v = fc.tuple(fc.nat(30), fc.nat(30), fc.nat(30)).map((t) => t.join('.'));
    const num = (s: string) => s.split('.').reduce((acc, x) => acc * 100 + Number(x), 0);
    fc.assert(
      fc.property(fc.array(v, { maxLength: 10 }), v, (published, built) => {
        const expected = published.some((p) => num(p) > num(built));
        expect(decideBaseImageRebuild(published, built).rebuild).toBe(expected);
      }),
    );
  });
});

describe('checkBaseImages', () => {
  const defs = [
    imageDefinitionSchema.parse({ name: 'aks-jumpbox' }),
    imageDefinitionSchema.parse({ name: 'pinned', source: { version: '24.04.202401010' } }),
  ];

  function setup(published: string[]) {
    const hub = new FakeTaskHub();
    const records = new FakeRecords();
    records.put({
      buildId: 'aks-jumpbox.20260101T000000Z.00000001',
      definition: 'aks-jumpbox',
      requestedAt: '2026-01-01T00:00:00Z',
      status: 'Succeeded',
      sourceImageVersion: '1.0.9',
    });
    const listed: string[] = [];
    const deps = {
      definitions: defs,
      orchestrations: hub,
      records,
      log,
      listVersions: async (publisher: string, offer: string, sku: string) => {
        listed.push(`${publisher}/${offer}/${sku}`);
        return published;
      },
    };
    return { hub, records, deps, listed };
  }

  it('starts a build when a numerically newer version is published, skipping pinned sources', async () => {
    const { hub, deps, listed } = setup(['1.0.9', '1.0.10']);
    const results = await checkBaseImages(deps);
    expect(results.find((r) => r.definition === 'aks-jumpbox')).toMatchObject({ action: 'started' });
    expect(results.find((r) => r.definition === 'pinned')).toMatchObject({ action: 'skipped' });
    expect(listed).toEqual(['Canonical/ubuntu-24_04-lts/server']);
    expect(hub.accepted).toMatchObject([{ definition: 'aks-jumpbox', trigger: 'base-image', force: false }]);
  });

  it('starts nothing when the last build already used the newest version', async () => {
    const { hub, deps } = setup(['1.0.8', '1.0.9']);
    const results = await checkBaseImages(deps);
    expect(results.find((r) => r.definition === 'aks-jumpbox')).toMatchObject({ action: 'up-to-date' });
    expect(hub.accepted).toHaveLength(0);
  });

  it('reports a listing failure per definition without throwing', async () => {
    const { deps } = setup([]);
    const results = await checkBaseImages({
      ...deps,
      listVersions: async () => {
        throw new Error('ARM unavailable');
      },
    });
    expect(results.find((r) => r.definition === 'aks-jumpbox')).toMatchObject({
      action: 'error',
      detail: 'ARM unavailable',
    });
  });
});

describe('rebuildAllDefinitions (monthly timer)', () => {
  it('starts a forced build per definition, skips the running one, and records the reason', async () => {
    const hub = new FakeTaskHub();
    const records = new FakeRecords();
    const defs = ['one', 'two', 'three'].map((name) => imageDefinitionSchema.parse({ name }));
    await rebuildAllDefinitions({ definitions: [defs[1]!], orchestrations: hub, schedule: 'x', log });
    hub.finish(buildInstanceId('two'), 'Running');
    const results = await rebuildAllDefinitions({
      definitions: defs,
      orchestrations: hub,
      records,
      schedule: '0 0 3 1 * *',
      log,
    });
    expect(results.map((r) => [r.definition, r.action])).toEqual([
      ['one', 'started'],
      ['two', 'already-running'],
      ['three', 'started'],
    ]);
    const recorded = [...records.rows.values()];
    expect(recorded).toHaveLength(2);
    for (const r of recorded) {
      expect(r.reason).toContain('0 0 3 1 * *');
      expect(r.trigger).toBe('schedule');
    }
    expect(hub.accepted.filter((a) => a.trigger === 'schedule').every((a) => a.force)).toBe(true);
  });
});
