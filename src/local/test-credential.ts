/**
 * A TokenCredential for the local stand-ins only: it returns an unsigned JWT shaped like an Entra ID
 * access token (Azurite's "basic" OAuth checks issuer, audience and lifetime; the ARM emulator reads
 * the object id). It carries no secret and is never used against Azure.
 */
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';

export const LOCAL_TENANT_ID = '72f988bf-0000-4000-8000-00000000cafe';
export const LOCAL_APP_OBJECT_ID = 'a11ce000-0000-4000-8000-000000000001';

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export class LocalTestCredential implements TokenCredential {
  constructor(private readonly objectId: string = LOCAL_APP_OBJECT_ID) {}

  async getToken(scopes: string | string[], _options?: GetTokenOptions): Promise<AccessToken> {
    const scope = Array.isArray(scopes) ? (scopes[0] ?? '') : scopes;
    const aud = scope.replace(/\/?\.default$/, '');
    const now = Math.floor(Date.now() / 1000);
    const exp = now + 3600;
    const token = [
      b64url({ alg: 'none', typ: 'JWT' }),
      b64url({
        aud,
        iss: `https://sts.windows.net/${LOCAL_TENANT_ID}/`,
        iat: now - 60,
        nbf: now - 60,
        exp,
        oid: this.objectId,
        tid: LOCAL_TENANT_ID,
        sub: this.objectId,
      }),
      'local',
    ].join('.');
    return { token, expiresOnTimestamp: exp * 1000 };
  }
}
