/**
 * In-memory stand-ins for the entry points' ports, shaped like the real task hub: an instance id that is
 * Pending/Running refuses a new start (overridableExistingInstanceStates = NonRunningStates), and every
 * call yields to the event loop so that concurrent callers interleave.
 */
import type { BuildInput } from '../../src/orchestration/contracts.js';
import type { BuildRecord, BuildRecordStore, ListOptions } from '../../src/records/build-records.js';
import {
  type BuildOrchestrations,
  type InstanceSnapshot,
  isActive,
  type RuntimeStatus,
} from '../../src/triggers/orchestration-port.js';

const tick = () => new Promise<void>((r) => setImmediate(r));

export class FakeTaskHub implements BuildOrchestrations {
  readonly instances = new Map<
    string,
    { status: RuntimeStatus; input: BuildInput; output?: unknown; custom?: unknown }
  >();
  readonly accepted: BuildInput[] = [];
  readonly refused: string[] = [];
  readonly cancels: string[] = [];

  async status(instanceId: string): Promise<InstanceSnapshot | undefined> {
    await tick();
    const i = this.instances.get(instanceId);
    return i
      ? { instanceId, runtimeStatus: i.status, input: i.input, output: i.output, customStatus: i.custom }
      : undefined;
  }

  async start(instanceId: string, input: BuildInput): Promise<void> {
    await tick();
    const i = this.instances.get(instanceId);
    if (i && isActive(i.status)) {
      this.refused.push(input.buildId);
      throw new Error(
        `The operation failed with an unexpected status code: 409. Details: "${instanceId} exists"`,
      );
    }
    this.instances.set(instanceId, { status: 'Pending', input });
    this.accepted.push(input);
  }

  async requestCancel(instanceId: string): Promise<void> {
    await tick();
    this.cancels.push(instanceId);
  }

  finish(instanceId: string, status: RuntimeStatus, output?: unknown): void {
    const i = this.instances.get(instanceId);
    if (!i) throw new Error(`no instance ${instanceId}`);
    i.status = status;
    i.output = output;
  }
}

export class FakeRecords implements Pick<BuildRecordStore, 'create' | 'get' | 'list' | 'lastSuccessful'> {
  readonly rows = new Map<string, BuildRecord>();

  async create(r: Parameters<BuildRecordStore['create']>[0]): Promise<BuildRecord> {
    await tick();
    if (this.rows.has(r.buildId)) throw Object.assign(new Error('EntityAlreadyExists'), { statusCode: 409 });
    const rec: BuildRecord = { logUrls: [], phaseTimestamps: {}, status: 'Queued', ...r };
    this.rows.set(r.buildId, rec);
    return rec;
  }

  put(
    r: Partial<BuildRecord> & Pick<BuildRecord, 'buildId' | 'definition' | 'requestedAt' | 'status'>,
  ): void {
    this.rows.set(r.buildId, {
      trigger: 'http',
      reason: '',
      requestedBy: '',
      logUrls: [],
      phaseTimestamps: {},
      ...r,
    });
  }

  async get(buildId: string): Promise<BuildRecord | undefined> {
    await tick();
    return this.rows.get(buildId);
  }

  async list(o: ListOptions = {}): Promise<BuildRecord[]> {
    await tick();
    return [...this.rows.values()]
      .filter(
        (r) =>
          (o.definition === undefined || r.definition === o.definition) &&
          (o.status === undefined || r.status === o.status),
      )
      .sort((a, b) => Date.parse(b.requestedAt) - Date.parse(a.requestedAt))
      .slice(0, o.top ?? 50);
  }

  async lastSuccessful(definition: string): Promise<BuildRecord | undefined> {
    return (await this.list({ definition, status: 'Succeeded', top: 1 }))[0];
  }
}

/**
 * A backend that accepts racing starts of an active id (last writer of the instance row wins, one
 * execution runs), as the Azure Storage provider does when both clients pass their existence check.
 */
export class LastWriterWinsHub extends FakeTaskHub {
  override async start(instanceId: string, input: BuildInput): Promise<void> {
    await new Promise<void>((r) => setImmediate(r));
    this.instances.set(instanceId, { status: 'Pending', input });
    this.accepted.push(input);
  }
}
