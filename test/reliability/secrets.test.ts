/**
 * The secret scanner used over everything the suite and the fault matrix produce: it must find each kind
 * of credential wherever it sits in a text (property), report it masked, and stay quiet on the app's
 * ordinary output (ids, URLs without SAS, ARM resource ids, build summaries).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SecretScanner } from '../../src/faults/secrets.js';
import { LocalTestCredential } from '../../src/local/test-credential.js';

const b64 = (n: number) =>
  fc.string({
    unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'),
    minLength: n,
    maxLength: n,
  });
const secrets = {
  jwt: async () => (await new LocalTestCredential().getToken('https://management.azure.com/.default')).token,
};

describe('SecretScanner', () => {
  it('finds a planted credential of every kind anywhere in surrounding text, and masks it in the report', async () => {
    const jwt = await secrets.jwt();
    const planted = fc.oneof(
      fc.constant(jwt),
      fc.constant(`Authorization: Bearer ${jwt}`),
      b64(40).map(
        (s) =>
          `https://acct.blob.core.windows.net/c/b?sv=2024-11-04&se=2026-01-01&sr=b&sp=r&sig=${encodeURIComponent(s)}`,
      ),
      b64(86).map(
        (k) =>
          `DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=${k}==;EndpointSuffix=core.windows.net`,
      ),
      b64(86).map((k) => `${k}==`),
      b64(30).map((s) => `BlobEndpoint=https://a;SharedAccessSignature=sv=2024-11-04&sig=${s}`),
      b64(30).map((s) => `grant_type=client_credentials&client_secret=${s.replace(/[+/]/g, 'x')}`),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 40 }),
        planted,
        fc.string({ maxLength: 40 }),
        async (before, secret, after) => {
          const s = new SecretScanner();
          s.scan('log', `${before} ${secret} ${after}`);
          expect(s.findings.length).toBeGreaterThan(0);
          for (const f of s.findings) expect(secret.includes(f.excerpt.replace(/….*$/, ''))).toBe(true);
          expect(JSON.stringify(s.findings)).not.toContain(secret);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('finds known exact values (a function key, a webhook path) and ignores values too short to be secrets', () => {
    const s = new SecretScanner(['k3y-Abcdef0123456789', 'short']);
    s.scan('problem', '{"detail":"bad key k3y-Abcdef0123456789"}');
    s.scan('log', 'a short line');
    expect(s.findings.map((f) => [f.rule, f.source])).toEqual([['known-secret', 'problem']]);
  });

  it('stays quiet on ordinary build output', () => {
    const s = new SecretScanner();
    s.scanJson('record', {
      buildId: 'aks-jumpbox.20260101T030000Z.0000abcd',
      imageId:
        '/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg/providers/Microsoft.Compute/images/aks-jumpbox-76db2e44783b',
      logUrls: [
        'https://acct.blob.core.windows.net/aib-logs/aks-jumpbox/aks-jumpbox.20260101T030000Z.0000abcd/customization.log',
      ],
      error: {
        code: 'AuthorizationFailed',
        message: "The client 'a11ce000-0000-4000-8000-000000000001' does not have authorization",
      },
      sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      text: 'Authorization: Bearer REDACTED',
    });
    expect(s.findings).toEqual([]);
  });
});
