/**
 * The durable client binding data the extension gives to functions with a `durableClient` input: webhook
 * URL templates (creation and management URLs) and the RPC base URL the JavaScript DurableClient calls.
 */

export interface DurableClientBindingData {
  readonly taskHubName: string;
  readonly creationUrls: Readonly<Record<string, string>>;
  readonly managementUrls: Readonly<Record<string, string>>;
  readonly baseUrl: string;
  readonly requiredQueryStringParameters: string;
  readonly rpcBaseUrl: string;
}

export const WEBHOOK_PREFIX = '/runtime/webhooks/durabletask';
export const RPC_PREFIX = '/durabletask';
export const INSTANCE_ID_PLACEHOLDER = 'INSTANCEID';

export function durableClientBindingData(
  origin: string,
  taskHub: string,
  systemKey: string,
  connection = 'Storage',
): DurableClientBindingData {
  const baseUrl = `${origin}${WEBHOOK_PREFIX}`;
  const required = `taskHub=${encodeURIComponent(taskHub)}&connection=${connection}&code=${encodeURIComponent(systemKey)}`;
  const instance = `${baseUrl}/instances/${INSTANCE_ID_PLACEHOLDER}`;
  return {
    taskHubName: taskHub,
    creationUrls: {
      createNewInstancePostUri: `${baseUrl}/orchestrators/{functionName}[/{instanceId}]?code=${encodeURIComponent(systemKey)}`,
      createAndWaitOnNewInstancePostUri: `${baseUrl}/orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&code=${encodeURIComponent(systemKey)}`,
    },
    managementUrls: {
      id: INSTANCE_ID_PLACEHOLDER,
      statusQueryGetUri: `${instance}?${required}`,
      sendEventPostUri: `${instance}/raiseEvent/{eventName}?${required}`,
      terminatePostUri: `${instance}/terminate?reason={text}&${required}`,
      rewindPostUri: `${instance}/rewind?reason={text}&${required}`,
      purgeHistoryDeleteUri: `${instance}?${required}`,
      restartPostUri: `${instance}/restart?${required}`,
      suspendPostUri: `${instance}/suspend?reason={text}&${required}`,
      resumePostUri: `${instance}/resume?reason={text}&${required}`,
    },
    baseUrl,
    requiredQueryStringParameters: required,
    rpcBaseUrl: `${origin}${RPC_PREFIX}/`,
  };
}

/** The HttpManagementPayload for one instance (what createCheckStatusResponse returns). */
export function managementPayload(
  data: DurableClientBindingData,
  instanceId: string,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(data.managementUrls)) {
    out[k] = v.replaceAll(INSTANCE_ID_PLACEHOLDER, encodeURIComponent(instanceId));
  }
  out.id = instanceId;
  return out;
}
