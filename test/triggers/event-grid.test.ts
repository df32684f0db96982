import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { imageDefinitionSchema } from '../../src/image/definition.js';
import { buildInstanceId } from '../../src/orchestration/contracts.js';
import {
  definitionsSourcedFrom,
  galleryVersionWritten,
  handleBaseImageEvent,
  RESOURCE_WRITE_SUCCESS,
  subscriptionValidationResponse,
} from '../../src/triggers/event-grid.js';
import { FakeRecords, FakeTaskHub } from './fakes.js';

const SUB = '00000000-0000-4000-8000-000000000001';
const IMAGE = `/subscriptions/${SUB}/resourceGroups/rg-golden/providers/Microsoft.Compute/galleries/golden/images/ubuntu-base`;

/** A definition with a gallery source (the image module's schema may not have the field yet). */
function galleryDefinition(name: string, galleryImageId: string, version = 'latest') {
  const d = imageDefinitionSchema.parse({ name });
  return { ...d, source: { ...d.source, galleryImageId, version } } as typeof d;
}

const writeEvent = (subject: string, eventType = RESOURCE_WRITE_SUCCESS, id = 'evt-1') => ({
  id,
  eventType,
  subject,
  eventTime: '2026-01-01T00:00:00Z',
  data: { operationName: 'Microsoft.Compute/galleries/images/versions/write' },
});

describe('Event Grid matching', () => {
  it('recognises a successful write of a gallery image version', () => {
    expect(galleryVersionWritten(writeEvent(`${IMAGE}/versions/1.0.10`))).toEqual({
      galleryImageId: IMAGE,
      version: '1.0.10',
    });
  });

  it('ignores other event types, other resource types and malformed subjects', () => {
    const ignored = [
      writeEvent(`${IMAGE}/versions/1.0.0`, 'Microsoft.Resources.ResourceDeleteSuccess'),
      writeEvent(`${IMAGE}/versions/1.0.0`, 'Microsoft.Resources.ResourceWriteFailure'),
      writeEvent(IMAGE),
      writeEvent(`/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Compute/images/img`),
      writeEvent(`${IMAGE}/versions/1.0.0/extra/x`),
      { id: 'x', eventType: RESOURCE_WRITE_SUCCESS },
      {},
    ];
    for (const e of ignored) expect(galleryVersionWritten(e)).toBeUndefined();
  });

  it('accepts the CloudEvents field names too', () => {
    expect(
      galleryVersionWritten({ type: RESOURCE_WRITE_SUCCESS, subject: `${IMAGE}/versions/2.0.0` })?.version,
    ).toBe('2.0.0');
  });

  it('matches definitions by gallery image id, case-insensitively, never marketplace ones', () => {
    const defs = [
      galleryDefinition('from-gallery', IMAGE),
      galleryDefinition('other-gallery', IMAGE.replace('ubuntu-base', 'windows')),
      imageDefinitionSchema.parse({ name: 'marketplace' }),
      galleryDefinition('pinned', IMAGE, '1.0.0'),
    ];
    const ref = galleryVersionWritten(writeEvent(`${IMAGE.toUpperCase()}/versions/1.0.10`))!;
    expect(definitionsSourcedFrom(defs, ref).map((d) => d.name)).toEqual(['from-gallery']);
    const pinnedRef = galleryVersionWritten(writeEvent(`${IMAGE}/versions/1.0.0`))!;
    expect(definitionsSourcedFrom(defs, pinnedRef).map((d) => d.name)).toEqual(['from-gallery', 'pinned']);
  });

  it('never rebuilds a definition from a version of the gallery image it publishes to', () => {
    const d = galleryDefinition('loop', IMAGE);
    const looping = {
      ...d,
      distribute: { ...d.distribute, gallery: { imageDefinitionId: IMAGE.toUpperCase() } },
    } as typeof d;
    const ref = galleryVersionWritten(writeEvent(`${IMAGE}/versions/2.0.0`))!;
    expect(definitionsSourcedFrom([looping], ref)).toEqual([]);
    expect(definitionsSourcedFrom([d], ref).map((x) => x.name)).toEqual(['loop']);
  });

  it('never matches a subject that is not exactly a version of the source image (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (subject) => {
        const defs = [galleryDefinition('from-gallery', IMAGE)];
        const ref = galleryVersionWritten(writeEvent(subject));
        const matched = ref ? definitionsSourcedFrom(defs, ref) : [];
        if (matched.length > 0)
          expect(subject.toLowerCase().startsWith(`${IMAGE.toLowerCase()}/versions/`)).toBe(true);
      }),
    );
  });

  it('answers subscription validation with the validation code', () => {
    expect(
      subscriptionValidationResponse({
        eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent',
        data: { validationCode: 'abc-123' },
      }),
    ).toEqual({ validationResponse: 'abc-123' });
    expect(subscriptionValidationResponse(writeEvent(`${IMAGE}/versions/1.0.0`))).toBeUndefined();
  });
});

describe('handleBaseImageEvent', () => {
  const logs: string[] = [];
  const log = {
    debug: (m: string) => logs.push(`debug ${m}`),
    info: (m: string) => logs.push(`info ${m}`),
    warn: (m: string) => logs.push(`warn ${m}`),
  };

  it('starts a build only for matching definitions and logs the rest at debug level', async () => {
    const hub = new FakeTaskHub();
    const records = new FakeRecords();
    const defs = [
      galleryDefinition('from-gallery', IMAGE),
      imageDefinitionSchema.parse({ name: 'marketplace' }),
    ];
    const deps = { definitions: defs, orchestrations: hub, records, log };
    const started = await handleBaseImageEvent(deps, writeEvent(`${IMAGE}/versions/1.0.10`));
    expect(started).toMatchObject([{ definition: 'from-gallery', action: 'started' }]);
    expect(hub.accepted.map((a) => [a.definition, a.trigger])).toEqual([['from-gallery', 'event-grid']]);
    logs.length = 0;
    const other = await handleBaseImageEvent(
      deps,
      writeEvent(`${IMAGE.replace('golden', 'elsewhere')}/versions/9`),
    );
    expect(other).toEqual([]);
    expect(logs.some((l) => l.startsWith('debug '))).toBe(true);
    expect(hub.accepted).toHaveLength(1);
  });

  it('does not rebuild for a version that is not newer than the last successful build', async () => {
    const hub = new FakeTaskHub();
    const records = new FakeRecords();
    records.put({
      buildId: 'from-gallery.20260101T000000Z.00000001',
      definition: 'from-gallery',
      requestedAt: '2026-01-01T00:00:00Z',
      status: 'Succeeded',
      sourceImageVersion: '1.0.10',
    });
    const deps = {
      definitions: [galleryDefinition('from-gallery', IMAGE)],
      orchestrations: hub,
      records,
      log,
    };
    expect(await handleBaseImageEvent(deps, writeEvent(`${IMAGE}/versions/1.0.9`))).toMatchObject([
      { action: 'not-newer' },
    ]);
    expect(await handleBaseImageEvent(deps, writeEvent(`${IMAGE}/versions/1.0.10`))).toMatchObject([
      { action: 'not-newer' },
    ]);
    expect(hub.accepted).toHaveLength(0);
    expect(await handleBaseImageEvent(deps, writeEvent(`${IMAGE}/versions/1.0.11`))).toMatchObject([
      { action: 'started' },
    ]);
    expect(hub.instances.get(buildInstanceId('from-gallery'))?.status).toBe('Pending');
  });

  it('starts nothing for a validation event', async () => {
    const hub = new FakeTaskHub();
    const deps = {
      definitions: [galleryDefinition('from-gallery', IMAGE)],
      orchestrations: hub,
      records: new FakeRecords(),
      log,
    };
    const r = await handleBaseImageEvent(deps, {
      eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent',
      subject: `${IMAGE}/versions/1.0.0`,
      data: { validationCode: 'x' },
    });
    expect(r).toEqual([]);
    expect(hub.accepted).toHaveLength(0);
  });
});
