import { RestError } from '@azure/core-rest-pipeline';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ClassifiedError, classifyError, permanent } from '../../src/azure/errors.js';

function rest(status: number, code?: string, retryAfter?: string): RestError {
  const headers = new Map<string, string>();
  if (retryAfter) headers.set('retry-after', retryAfter);
  return new RestError('failed', {
    statusCode: status,
    code,
    response: { status, headers: { get: (n: string) => headers.get(n) } } as never,
  });
}

describe('error classification', () => {
  it('408, 429 and 5xx are transient; other 4xx permanent (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 400, max: 599 }), (status) => {
        const kind = classifyError(rest(status, 'SomeCode')).kind;
        const transient = status === 408 || status === 429 || [500, 502, 503, 504].includes(status);
        expect(kind).toBe(transient ? 'transient' : 'permanent');
      }),
    );
  });

  it('keeps the ARM code and the Retry-After hint', () => {
    expect(classifyError(rest(429, 'TooManyRequests', '7'))).toMatchObject({
      kind: 'transient',
      code: 'TooManyRequests',
      statusCode: 429,
      retryAfterMs: 7000,
    });
    expect(classifyError(rest(400, 'InvalidTemplate'))).toMatchObject({
      kind: 'permanent',
      code: 'InvalidTemplate',
    });
    expect(classifyError(rest(409, 'AnotherOperationInProgress')).kind).toBe('transient');
  });

  it('network failures are transient; unknown values permanent', () => {
    expect(classifyError(new RestError('reset', { code: 'ECONNRESET' })).kind).toBe('transient');
    expect(classifyError(new RestError('send', { code: 'REQUEST_SEND_ERROR' })).kind).toBe('transient');
    expect(classifyError(Object.assign(new Error('x'), { code: 'ETIMEDOUT' })).kind).toBe('transient');
    expect(classifyError('weird').kind).toBe('permanent');
    expect(classifyError(new TypeError('bug')).kind).toBe('permanent');
  });

  it('an already classified error passes through', () => {
    expect(classifyError(permanent('PreflightFailed', 'subnet too small'))).toEqual({
      kind: 'permanent',
      code: 'PreflightFailed',
      message: 'subnet too small',
    });
    expect(new ClassifiedError({ kind: 'transient', code: 'x', message: 'y' }).message).toBe('y');
  });
});
