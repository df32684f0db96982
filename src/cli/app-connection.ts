/**
 * The options every API-calling command shares (`--url`, `--key-env`, `--auth`, `--audience`): validated once,
 * with the same one-line errors, and turned into request headers the same way.
 */
import type { TokenCredential } from '@azure/core-auth';
import {
  AUDIENCE_ENV,
  type AuthHeaders,
  type AuthMode,
  defaultCredential,
  entraAuth,
  keyAuth,
} from './auth.js';
import { UsageError } from './usage-error.js';

export const DEFAULT_KEY_ENV = 'JUMPBOX_FUNCTION_KEY';

export interface AppConnection {
  /** The function app's base URL, without a trailing slash or `/api`. */
  readonly url: string;
  readonly keyEnv: string;
  readonly auth: AuthMode;
  readonly audience?: string | undefined;
}

/** Reads and checks the shared options from parsed `--name value` pairs; `usage` goes into the missing-URL error. */
export function parseAppConnection(
  values: Readonly<Record<string, string | undefined>>,
  usage: string,
): AppConnection {
  const url = values['--url'];
  if (!url) throw new UsageError(`--url is required; ${usage}`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(
      `--url must be the function app URL, e.g. https://my-app.azurewebsites.net, got "${url}"`,
    );
  }
  if (
    parsed.protocol !== 'https:' &&
    !(parsed.protocol === 'http:' && ['127.0.0.1', 'localhost'].includes(parsed.hostname))
  ) {
    throw new UsageError('--url must use https:// (http:// only for 127.0.0.1/localhost)');
  }
  if (parsed.search || parsed.username || parsed.password) {
    throw new UsageError(
      '--url must not carry a query string or credentials; put the key in the environment',
    );
  }
  const auth = values['--auth'] ?? 'key';
  if (auth !== 'key' && auth !== 'entra') {
    throw new UsageError(
      `--auth must be "key" (function key) or "entra" (Microsoft Entra token), got "${auth}"`,
    );
  }
  if (values['--audience'] !== undefined && auth !== 'entra') {
    throw new UsageError('--audience goes with --auth entra');
  }
  return {
    url: parsed.href.replace(/\/+$/, '').replace(/\/api$/, ''),
    keyEnv: values['--key-env'] ?? DEFAULT_KEY_ENV,
    auth,
    audience: values['--audience'],
  };
}

/**
 * Headers for the API, or the one line telling what is missing. With Entra, a function key that is set goes
 * along too (for deployments that require both).
 */
export async function authForApp(
  c: AppConnection,
  env: Readonly<Record<string, string | undefined>>,
  credential: () => Promise<TokenCredential> = defaultCredential,
): Promise<AuthHeaders | string> {
  const key = env[c.keyEnv];
  if (c.auth === 'entra') {
    const audience = c.audience ?? env[AUDIENCE_ENV];
    if (!audience)
      return `--auth entra needs --audience api://<client id> (or $${AUDIENCE_ENV}); azd prints it as API_AUDIENCE`;
    return entraAuth(await credential(), audience, key);
  }
  if (!key) return `set ${c.keyEnv} to a function key of the app (it is never printed), or use --auth entra`;
  return keyAuth(key, c.keyEnv);
}
