/** ARM-shaped errors: `{"error":{"code","message","details"}}` with the status code ARM uses. */

export interface ArmErrorDetail {
  readonly code: string;
  readonly message: string;
  readonly target?: string;
}

export class ArmError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: readonly ArmErrorDetail[] = [],
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'ArmError';
  }

  toBody(): { error: { code: string; message: string; details: ArmErrorDetail[] } } {
    return { error: { code: this.code, message: this.message, details: [...this.details] } };
  }
}

export function resourceNotFound(type: string, name: string, resourceGroup?: string): ArmError {
  return new ArmError(
    404,
    'ResourceNotFound',
    `The Resource '${type}/${name}' under resource group '${resourceGroup ?? '(none)'}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
  );
}

export function resourceGroupNotFound(resourceGroup: string): ArmError {
  return new ArmError(404, 'ResourceGroupNotFound', `Resource group '${resourceGroup}' could not be found.`);
}

export function subscriptionNotFound(subscriptionId: string): ArmError {
  return new ArmError(
    404,
    'SubscriptionNotFound',
    `The subscription '${subscriptionId}' could not be found.`,
  );
}

export function badRequest(code: string, message: string, target?: string): ArmError {
  return new ArmError(400, code, message, target ? [{ code, message, target }] : []);
}

export function conflict(code: string, message: string): ArmError {
  return new ArmError(409, code, message);
}

/** The authorization error ARM and resource providers return, with the standard wording. */
export function authorizationFailedMessage(
  principal: { clientId?: string | undefined; objectId: string },
  action: string,
  scope: string,
): string {
  return `The client '${principal.clientId ?? principal.objectId}' with object id '${principal.objectId}' does not have authorization to perform action '${action}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`;
}
