/**
 * Event Grid: `Microsoft.Resources.ResourceWriteSuccess` events whose subject is a version of a gallery image
 * that a definition uses as its source start a build of those definitions. Everything else is ignored (and
 * logged at debug level). Subscription validation events are answered with their validation code.
 */
import type { ImageDefinition } from '../image/definition.js';
import { compareImageVersions } from '../image/versions.js';
import type { BuildRecordStore } from '../records/build-records.js';
import { distributionGalleryImageOf, sourceOf } from './definition-source.js';
import type { BuildOrchestrations } from './orchestration-port.js';
import { startBuild } from './start-build.js';

export const RESOURCE_WRITE_SUCCESS = 'Microsoft.Resources.ResourceWriteSuccess';
export const SUBSCRIPTION_VALIDATION = 'Microsoft.EventGrid.SubscriptionValidationEvent';

/** An event in the Event Grid schema or the CloudEvents 1.0 schema (field names differ). */
export interface IncomingEvent {
  readonly id?: unknown;
  readonly eventType?: unknown;
  readonly type?: unknown;
  readonly subject?: unknown;
  readonly data?: unknown;
}

const GALLERY_VERSION =
  /^(\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Compute\/galleries\/[^/]+\/images\/[^/]+)\/versions\/([^/]+)$/i;

export interface GalleryVersionRef {
  /** The gallery image (definition) id, as in the subject. */
  readonly galleryImageId: string;
  readonly version: string;
}

function eventTypeOf(e: IncomingEvent): string | undefined {
  const t = e.eventType ?? e.type;
  return typeof t === 'string' ? t : undefined;
}

/** The gallery image version an event is about, when it is a successful write of one. */
export function galleryVersionWritten(e: IncomingEvent): GalleryVersionRef | undefined {
  if (eventTypeOf(e) !== RESOURCE_WRITE_SUCCESS || typeof e.subject !== 'string') return undefined;
  const m = GALLERY_VERSION.exec(e.subject.trim());
  if (!m) return undefined;
  return { galleryImageId: m[1]!, version: m[2]! };
}

/** Definitions whose source is the event's gallery image (ARM ids compare case-insensitively). */
export function definitionsSourcedFrom(
  definitions: readonly ImageDefinition[],
  ref: GalleryVersionRef,
): ImageDefinition[] {
  const id = ref.galleryImageId.toLowerCase();
  return definitions.filter((d) => {
    const s = sourceOf(d);
    return (
      s?.kind === 'gallery' &&
      s.galleryImageId.toLowerCase() === id &&
      // Never rebuild from a version this definition published itself (a loop).
      distributionGalleryImageOf(d)?.toLowerCase() !== id &&
      // A pinned source version only rebuilds on a write of that very version.
      (s.version.toLowerCase() === 'latest' || s.version === ref.version)
    );
  });
}

/** The validation response for a subscription validation event, else undefined. */
export function subscriptionValidationResponse(e: IncomingEvent): { validationResponse: string } | undefined {
  if (eventTypeOf(e) !== SUBSCRIPTION_VALIDATION) return undefined;
  const code = (e.data as { validationCode?: unknown } | undefined)?.validationCode;
  return typeof code === 'string' ? { validationResponse: code } : undefined;
}

export interface EventGridDeps {
  readonly definitions: readonly ImageDefinition[];
  readonly orchestrations: BuildOrchestrations;
  readonly records: Pick<BuildRecordStore, 'lastSuccessful' | 'create'>;
  readonly now?: (() => Date) | undefined;
  readonly log?: { debug(m: string): void; info(m: string): void; warn(m: string): void } | undefined;
}

export interface EventGridResult {
  readonly definition: string;
  readonly action: 'started' | 'already-running' | 'not-newer';
  readonly buildId?: string | undefined;
}

export async function handleBaseImageEvent(
  deps: EventGridDeps,
  event: IncomingEvent,
): Promise<EventGridResult[]> {
  const validation = subscriptionValidationResponse(event);
  if (validation) {
    deps.log?.info('Event Grid subscription validation event received and answered');
    return [];
  }
  const ref = galleryVersionWritten(event);
  const eventId = typeof event.id === 'string' ? event.id : '(no id)';
  if (!ref) {
    deps.log?.debug(`event ${eventId} ignored: not a ${RESOURCE_WRITE_SUCCESS} on a gallery image version`);
    return [];
  }
  const matches = definitionsSourcedFrom(deps.definitions, ref);
  if (matches.length === 0) {
    deps.log?.debug(`event ${eventId} ignored: no definition uses ${ref.galleryImageId} as its source`);
    return [];
  }
  const results: EventGridResult[] = [];
  for (const d of matches) {
    // Event Grid delivers at least once, and tag updates are writes too: only a NEWER version rebuilds.
    const last = await deps.records.lastSuccessful(d.name);
    if (last?.sourceImageVersion && compareImageVersions(ref.version, last.sourceImageVersion) <= 0) {
      deps.log?.info(
        `event ${eventId}: ${d.name} already built from ${last.sourceImageVersion}; version ${ref.version} is not newer`,
      );
      results.push({ definition: d.name, action: 'not-newer' });
      continue;
    }
    const o = await startBuild(
      { orchestrations: deps.orchestrations, records: deps.records, now: deps.now, log: deps.log },
      {
        definition: d.name,
        trigger: 'event-grid',
        reason: `gallery image version ${ref.version} of ${ref.galleryImageId} was published`,
        requestedBy: `event-grid:${eventId}`.slice(0, 200),
        force: false,
      },
    );
    deps.log?.info(`event ${eventId}: ${d.name} ${o.outcome}${o.buildId ? ` ${o.buildId}` : ''}`);
    results.push({ definition: d.name, action: o.outcome, buildId: o.buildId });
  }
  return results;
}
