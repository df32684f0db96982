/**
 * HTTP functions drop the function key only when both the deployment asks for it (HTTP_AUTH_LEVEL=anonymous,
 * set by infra with callerAuthentication) and App Service Authentication is really on (WEBSITE_AUTH_ENABLED).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { httpAuthLevel } from '../../src/functions/http-auth-level.js';

describe('httpAuthLevel', () => {
  it('is "function" by default and when only one of the two conditions holds', () => {
    expect(httpAuthLevel({})).toBe('function');
    expect(httpAuthLevel({ HTTP_AUTH_LEVEL: 'anonymous' })).toBe('function');
    expect(httpAuthLevel({ HTTP_AUTH_LEVEL: 'anonymous', WEBSITE_AUTH_ENABLED: 'False' })).toBe('function');
    expect(httpAuthLevel({ WEBSITE_AUTH_ENABLED: 'True' })).toBe('function');
    expect(httpAuthLevel({ HTTP_AUTH_LEVEL: 'Anonymous', WEBSITE_AUTH_ENABLED: 'True' })).toBe('anonymous');
  });

  it('is anonymous exactly when anonymous is asked for and platform authentication is on (property)', () => {
    const value = fc.oneof(
      fc.constant(undefined),
      fc.constantFrom(
        'anonymous',
        'ANONYMOUS',
        ' anonymous ',
        'function',
        'admin',
        'True',
        'true',
        'False',
        '',
      ),
      fc.string({ maxLength: 12 }),
    );
    fc.assert(
      fc.property(value, value, (level, enabled) => {
        const expected =
          level?.trim().toLowerCase() === 'anonymous' && enabled?.trim().toLowerCase() === 'true'
            ? 'anonymous'
            : 'function';
        expect(httpAuthLevel({ HTTP_AUTH_LEVEL: level, WEBSITE_AUTH_ENABLED: enabled })).toBe(expected);
      }),
    );
  });
});
