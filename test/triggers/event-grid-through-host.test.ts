/**
 * Gallery-sourced definitions end to end through the local Durable host with the app's real registrations
 * (src/functions/index.ts: Event Grid trigger, HTTP API, the real build orchestration) against the ARM
 * emulator and Azurite.
 *
 * A gallery image version is published the way Azure publishes one: an Image Builder run distributes to the
 * gallery image (here the app's own `golden-base` definition; the emulator serves no direct version PUT).
 * The `Microsoft.Resources.ResourceWriteSuccess` event that Event Grid would deliver for it is then handed to
 * the Event Grid function, which must start exactly one build of the definition sourced from that image;
 * that build must resolve and use that exact version.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageDefinitionInput } from '../../src/image/definition.js';
import { TAG } from '../../src/image/template-body.js';
import { DEFAULT_SUBSCRIPTION_ID } from '../../src/local/scenarios/default.js';
import { buildInstanceId } from '../../src/orchestration/contracts.js';
import type { BuildRecord } from '../../src/records/build-records.js';
import { RESOURCE_WRITE_SUCCESS } from '../../src/triggers/event-grid.js';
import { type BuildHost, startBuildHost } from '../orchestration/build-host.js';

const RG = 'rg-jumpbox-images';
const GALLERY = 'galGolden';
const FAST = { updateIntervalInMs: 5 };
const PUBLISHER = 'golden-base';
const CONSUMER = 'jumpbox-golden';

const imageId = (image: string) =>
  `/subscriptions/${DEFAULT_SUBSCRIPTION_ID}/resourceGroups/${RG}/providers/Microsoft.Compute/galleries/${GALLERY}/images/${image}`;
const goldenImage = imageId('ubuntu-hardened');
const otherImage = imageId('windows-hardened');

const DEFINITIONS: ImageDefinitionInput[] = [
  {
    // Another team's golden image pipeline: marketplace Ubuntu -> gallery image "ubuntu-hardened".
    name: PUBLISHER,
    distribute: {
      managedImage: false,
      gallery: { imageDefinitionId: goldenImage, targetRegions: [{ name: 'eastus2' }] },
    },
  },
  // The jump box built on top of the newest golden image.
  { name: CONSUMER, source: { galleryImageId: goldenImage } },
];

let b: BuildHost;
let eventSeq = 0;

beforeAll(async () => {
  b = await startBuildHost({ definitions: DEFINITIONS });
  expect(b.harness.emulator.subscriptionId).toBe(DEFAULT_SUBSCRIPTION_ID);
  const compute = b.harness.clients.compute;
  const location = b.harness.emulator.scenario.location;
  await compute.galleries.createOrUpdate(RG, GALLERY, { location }, FAST).pollUntilDone();
  for (const image of ['ubuntu-hardened', 'windows-hardened']) {
    await compute.galleryImages
      .createOrUpdate(
        RG,
        GALLERY,
        image,
        {
          location,
          osType: 'Linux',
          osState: 'Generalized',
          hyperVGeneration: 'V2',
          identifier: { publisher: 'contoso', offer: image, sku: 'gen2' },
        },
        FAST,
      )
      .pollUntilDone();
  }
}, 120_000);

afterAll(async () => {
  await b?.stop();
});

async function publishedVersions(image: string): Promise<string[]> {
  const names: string[] = [];
  for await (const v of b.harness.clients.compute.galleryImageVersions.listByGalleryImage(
    RG,
    GALLERY,
    image,
  )) {
    if (v.name) names.push(v.name);
  }
  return names;
}

/** Publishes a new version of the golden image through an Image Builder run; returns its version name. */
async function publishGoldenVersion(): Promise<string> {
  const before = new Set(await publishedVersions('ubuntu-hardened'));
  await b.startBuild(PUBLISHER, { force: true, reason: 'new golden image' });
  const { runtimeStatus, output } = await b.finish(PUBLISHER);
  expect([runtimeStatus, output.result]).toEqual(['Completed', 'Succeeded']);
  const added = (await publishedVersions('ubuntu-hardened')).filter((v) => !before.has(v));
  expect(added).toHaveLength(1);
  return added[0]!;
}

/** The event Event Grid delivers for a resource operation on `subject` (Event Grid schema). */
function resourceEvent(subject: string, eventType = RESOURCE_WRITE_SUCCESS) {
  eventSeq++;
  return {
    id: `evt-${eventSeq}`,
    topic: `/subscriptions/${b.harness.emulator.subscriptionId}`,
    subject,
    eventType,
    eventTime: new Date(b.harness.clock.now()).toISOString(),
    dataVersion: '2',
    data: {
      operationName: 'Microsoft.Compute/galleries/images/versions/write',
      status: 'Succeeded',
      resourceUri: subject,
      subscriptionId: b.harness.emulator.subscriptionId,
    },
  };
}

async function buildsOf(definition: string): Promise<BuildRecord[]> {
  return b.records.list({ definition, top: 100 });
}

describe('Event Grid trigger for gallery-sourced definitions (through the host)', () => {
  it('a new golden version starts exactly one build of the definition sourced from it, which uses that exact version', async () => {
    const version = await publishGoldenVersion();
    expect(await buildsOf(CONSUMER)).toEqual([]);
    const event = resourceEvent(`${goldenImage}/versions/${version}`);
    await b.host.invokeEventGrid('baseImageEvent', event);
    // Event Grid delivers at least once: the same event again, and another delivery at the same time.
    await Promise.all([
      b.host.invokeEventGrid('baseImageEvent', event),
      b.host.invokeEventGrid('baseImageEvent', resourceEvent(`${goldenImage}/versions/${version}`)),
    ]);
    const status = await b.host.getStatus(buildInstanceId(CONSUMER));
    expect(status?.input).toMatchObject({ definition: CONSUMER, trigger: 'event-grid' });
    expect((status?.input as { reason?: string } | undefined)?.reason).toContain(version);

    const { runtimeStatus, output } = await b.finish(CONSUMER);
    expect(runtimeStatus).toBe('Completed');
    expect(output).toMatchObject({ result: 'Succeeded', definition: CONSUMER, sourceImageVersion: version });
    const builds = await buildsOf(CONSUMER);
    expect(builds.map((r) => [r.trigger, r.status, r.sourceImageVersion])).toEqual([
      ['event-grid', 'Succeeded', version],
    ]);
    const template = b.harness.emulator.state.imageTemplate(output.templateName!);
    const props = template?.body.properties as { source: Record<string, unknown> };
    expect(props.source).toMatchObject({
      type: 'SharedImageVersion',
      imageVersionId: `${goldenImage}/versions/${version}`,
    });
    const image = b.harness.emulator.state
      .images()
      .find((i) => String(i.id).toLowerCase() === output.imageId?.toLowerCase());
    expect((image?.tags as Record<string, string> | undefined)?.[TAG.sourceVersion]).toBe(version);
    // The publisher was built once by the test and never by the event.
    expect((await buildsOf(PUBLISHER)).map((r) => r.trigger)).toEqual(['http']);
  });

  it('the next golden version rebuilds from it; events for another image, failures, deletes and re-deliveries start nothing', async () => {
    const [built] = await buildsOf(CONSUMER);
    const previous = built!.sourceImageVersion!;
    const sub = b.harness.emulator.subscriptionId;
    const ignored = [
      resourceEvent(`${otherImage}/versions/9.9.9`),
      resourceEvent(`${goldenImage}/versions/99.0.0`, 'Microsoft.Resources.ResourceWriteFailure'),
      resourceEvent(`${goldenImage}/versions/99.0.1`, 'Microsoft.Resources.ResourceDeleteSuccess'),
      resourceEvent(`${goldenImage}/versions/99.0.2`, 'Microsoft.Resources.ResourceActionSuccess'),
      resourceEvent(goldenImage),
      resourceEvent(`/subscriptions/${sub}/resourceGroups/${RG}/providers/Microsoft.Compute/images/img-1`),
      // A tag update on the version already built is a write too, but not a newer version.
      resourceEvent(`${goldenImage}/versions/${previous}`),
    ];
    for (const e of ignored) await b.host.invokeEventGrid('baseImageEvent', e);
    // The marketplace watcher leaves gallery sources to Event Grid (and the publisher is up to date).
    await b.host.fireTimerTrigger('baseImageCheck');
    expect(await buildsOf(PUBLISHER)).toHaveLength(1);
    expect((await b.host.getStatus(buildInstanceId(CONSUMER)))?.runtimeStatus).toBe('Completed');
    expect(await buildsOf(CONSUMER)).toHaveLength(1);

    const next = await publishGoldenVersion();
    await b.host.invokeEventGrid('baseImageEvent', resourceEvent(`${goldenImage}/versions/${next}`));
    const { output } = await b.finish(CONSUMER);
    expect(output).toMatchObject({ result: 'Succeeded', sourceImageVersion: next });
    expect(next).not.toBe(previous);
    expect((await buildsOf(CONSUMER)).map((r) => r.sourceImageVersion).sort()).toEqual(
      [previous, next].sort(),
    );
  });
});
