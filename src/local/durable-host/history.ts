/**
 * Durable Task history events as the Durable extension hands them to the JavaScript worker:
 * PascalCase properties, numeric `EventType` (DurableTask.Core's EventType enum), ISO timestamps.
 * Completion events link to what they complete through `TaskScheduledId` / `TimerId`.
 */

export const EventType = {
  ExecutionStarted: 0,
  ExecutionCompleted: 1,
  ExecutionFailed: 2,
  ExecutionTerminated: 3,
  TaskScheduled: 4,
  TaskCompleted: 5,
  TaskFailed: 6,
  SubOrchestrationInstanceCreated: 7,
  SubOrchestrationInstanceCompleted: 8,
  SubOrchestrationInstanceFailed: 9,
  TimerCreated: 10,
  TimerFired: 11,
  OrchestratorStarted: 12,
  OrchestratorCompleted: 13,
  EventSent: 14,
  EventRaised: 15,
  ContinueAsNew: 16,
  GenericEvent: 17,
  HistoryState: 18,
  ExecutionSuspended: 19,
  ExecutionResumed: 20,
} as const;

export type EventTypeName = keyof typeof EventType;
export type EventTypeNumber = (typeof EventType)[EventTypeName];

const NAMES = Object.fromEntries(Object.entries(EventType).map(([k, v]) => [v, k])) as Record<
  number,
  EventTypeName
>;

export function eventTypeName(type: number): EventTypeName | `Unknown(${number})` {
  return NAMES[type] ?? `Unknown(${type})`;
}

/** FailureDetails as DurableTask.Core serializes them. */
export interface FailureDetails {
  readonly ErrorType: string;
  readonly ErrorMessage: string;
  readonly StackTrace?: string | undefined;
  readonly IsNonRetriable: boolean;
  readonly InnerFailure?: FailureDetails | undefined;
  readonly Properties?: Record<string, unknown> | undefined;
}

/** One history event. Extra properties depend on the event type. */
export interface HistoryEvent {
  readonly EventType: EventTypeNumber;
  readonly EventId: number;
  readonly IsPlayed: boolean;
  readonly Timestamp: string;
  readonly Name?: string;
  readonly Input?: string | undefined;
  readonly Result?: string | undefined;
  readonly TaskScheduledId?: number;
  readonly TimerId?: number;
  readonly FireAt?: string;
  readonly InstanceId?: string;
  readonly Reason?: string;
  readonly Details?: string | undefined;
  readonly FailureDetails?: FailureDetails | undefined;
  readonly OrchestrationStatus?: string;
  readonly Version?: string;
  readonly OrchestrationInstance?: { readonly InstanceId: string; readonly ExecutionId: string };
  readonly ParentInstance?: ParentInstanceInfo | null;
  readonly Tags?: null;
}

export interface ParentInstanceInfo {
  readonly Name: string;
  readonly Version: string;
  readonly TaskScheduleId: number;
  readonly OrchestrationInstance: { readonly InstanceId: string; readonly ExecutionId: string };
}

function base(type: EventTypeNumber, at: Date, eventId = -1): HistoryEvent {
  return { EventType: type, EventId: eventId, IsPlayed: false, Timestamp: at.toISOString() };
}

/** JSON text of a value the way the extension stores payloads (`undefined` becomes `null`). */
export function toJsonText(value: unknown): string {
  return JSON.stringify(value === undefined ? null : value);
}

export const history = {
  executionStarted(
    at: Date,
    name: string,
    instanceId: string,
    executionId: string,
    input: unknown,
    parent: ParentInstanceInfo | null,
  ): HistoryEvent {
    return {
      ...base(EventType.ExecutionStarted, at),
      OrchestrationInstance: { InstanceId: instanceId, ExecutionId: executionId },
      ParentInstance: parent,
      Name: name,
      Version: '',
      Input: toJsonText(input),
      Tags: null,
    };
  },
  orchestratorStarted: (at: Date): HistoryEvent => base(EventType.OrchestratorStarted, at),
  orchestratorCompleted: (at: Date): HistoryEvent => base(EventType.OrchestratorCompleted, at),
  taskScheduled: (at: Date, id: number, name: string, input: unknown): HistoryEvent => ({
    ...base(EventType.TaskScheduled, at, id),
    Name: name,
    Version: '',
    Input: toJsonText(input),
  }),
  taskCompleted: (at: Date, taskScheduledId: number, result: unknown): HistoryEvent => ({
    ...base(EventType.TaskCompleted, at),
    TaskScheduledId: taskScheduledId,
    Result: toJsonText(result),
  }),
  taskFailed: (
    at: Date,
    taskScheduledId: number,
    reason: string,
    details: string,
    failure?: FailureDetails,
  ): HistoryEvent => ({
    ...base(EventType.TaskFailed, at),
    TaskScheduledId: taskScheduledId,
    Reason: reason,
    Details: details,
    ...(failure ? { FailureDetails: failure } : {}),
  }),
  timerCreated: (at: Date, id: number, fireAt: Date): HistoryEvent => ({
    ...base(EventType.TimerCreated, at, id),
    FireAt: fireAt.toISOString(),
  }),
  timerFired: (at: Date, timerId: number, fireAt: string): HistoryEvent => ({
    ...base(EventType.TimerFired, at),
    TimerId: timerId,
    FireAt: fireAt,
  }),
  subOrchestrationCreated: (
    at: Date,
    id: number,
    name: string,
    instanceId: string,
    input: unknown,
  ): HistoryEvent => ({
    ...base(EventType.SubOrchestrationInstanceCreated, at, id),
    Name: name,
    Version: '',
    InstanceId: instanceId,
    Input: toJsonText(input),
  }),
  subOrchestrationCompleted: (
    at: Date,
    taskScheduledId: number,
    resultJson: string | undefined,
  ): HistoryEvent => ({
    ...base(EventType.SubOrchestrationInstanceCompleted, at),
    TaskScheduledId: taskScheduledId,
    Result: resultJson ?? 'null',
  }),
  subOrchestrationFailed: (
    at: Date,
    taskScheduledId: number,
    reason: string,
    details: string,
  ): HistoryEvent => ({
    ...base(EventType.SubOrchestrationInstanceFailed, at),
    TaskScheduledId: taskScheduledId,
    Reason: reason,
    Details: details,
  }),
  eventRaised: (at: Date, name: string, input: unknown): HistoryEvent => ({
    ...base(EventType.EventRaised, at),
    Name: name,
    Input: toJsonText(input),
  }),
  executionCompleted: (
    at: Date,
    status: 'Completed' | 'Failed' | 'Terminated',
    resultJson: string | undefined,
    failure?: FailureDetails,
  ): HistoryEvent => ({
    ...base(EventType.ExecutionCompleted, at),
    OrchestrationStatus: status,
    Result: resultJson,
    FailureDetails: failure,
  }),
  executionTerminated: (at: Date, reason: string | undefined): HistoryEvent => ({
    ...base(EventType.ExecutionTerminated, at),
    Input: toJsonText(reason ?? ''),
  }),
  continueAsNew: (at: Date, inputJson: string): HistoryEvent => ({
    ...base(EventType.ContinueAsNew, at),
    Result: inputJson,
  }),
};
