/**
 * The authorization level of every HTTP function. "function" (a function key) unless the deployment turns on
 * Microsoft Entra ID for callers (infra: callerAuthentication) and asks for HTTP_AUTH_LEVEL=anonymous: then App
 * Service Authentication rejects every call without a valid token before the Functions host sees it, and a key
 * would add nothing. The host does not map an App Service Authentication identity to a key level, so functions
 * behind it are declared anonymous (Azure/azure-functions-host issue 11394).
 *
 * Fail closed: "anonymous" takes effect only while the platform reports App Service Authentication on
 * (WEBSITE_AUTH_ENABLED=True, https://learn.microsoft.com/azure/app-service/reference-app-settings); a setting
 * copied to an app without it keeps the key requirement.
 */
export type HttpAuthLevel = 'function' | 'anonymous';

export function httpAuthLevel(
  env: Readonly<Record<string, string | undefined>> = process.env,
): HttpAuthLevel {
  const requested = (env.HTTP_AUTH_LEVEL ?? '').trim().toLowerCase();
  const platformAuthOn = (env.WEBSITE_AUTH_ENABLED ?? '').trim().toLowerCase() === 'true';
  return requested === 'anonymous' && platformAuthOn ? 'anonymous' : 'function';
}
