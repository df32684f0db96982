/**
 * The pure parts of the build flow: the terminal-state mapping, what counts as an Image Builder timeout,
 * and the grant-propagation backoff.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RunStatus } from '../../src/activities/run/image-run.js';
import { grantWaitSeconds } from '../../src/orchestration/grant-wait.js';
import { isImageBuilderTimeout, terminalVerdict } from '../../src/orchestration/run-outcome.js';

const status = (runState: string, message?: string, runSubState?: string): RunStatus => ({
  runState,
  runSubState,
  message,
  startTime: undefined,
  endTime: undefined,
  artifactIds: [],
});
const idle = { cancelRequested: false, timedOut: false, deadlineMinutes: 105 };

describe('isImageBuilderTimeout', () => {
  it("recognises Image Builder's build-timeout message (image-builder-troubleshoot.md)", () => {
    expect(
      isImageBuilderTimeout(
        "Failed in building/customizing image: Failed while waiting for packerizer: Timeout waiting for microservice to complete: 'context deadline exceeded'",
      ),
    ).toBe(true);
  });

  it('a 403 wrapped in "Timedout" is a permission failure, not a timeout (azvmimagebuilder issue 20)', () => {
    const m =
      'Failed in distributing 1 images out of total 1: {[Error 0] [Distribute 0] Error publishing VHD to managed image. Error: Creating image from VHD [with 10 retries] reported non-success status (Timedout [compute.ImagesClient#Delete: Failure sending request: StatusCode=403 -- Original Error: Code="AuthorizationFailed" Message="The client does not have authorization to perform action \'Microsoft.Compute/images/delete\'';
    expect(isImageBuilderTimeout(m)).toBe(false);
    const v = terminalVerdict(status('Failed', m, 'Distributing'), idle);
    expect(v.result).toBe('Failed');
    expect(v.error?.code).toBe('RunFailed');
    expect(v.error?.message).toMatch(/^Distributing: .*lacks a right on a distribution target/);
  });

  it('plain words like "timed out" in a customizer failure are not a build timeout', () => {
    expect(isImageBuilderTimeout('curl: (28) Connection timed out after 30001 milliseconds')).toBe(false);
    expect(isImageBuilderTimeout(undefined)).toBe(false);
  });

  it('any message carrying an authorization signal is never a timeout', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.constantFrom('AuthorizationFailed', 'StatusCode=403', 'does not have authorization'),
        fc.string(),
        (a, sig, b) => {
          expect(isImageBuilderTimeout(`${a} context deadline exceeded ${sig} ${b}`)).toBe(false);
        },
      ),
    );
  });
});

describe('terminalVerdict', () => {
  it('maps each terminal state with what the build did', () => {
    expect(terminalVerdict(status('Succeeded'), idle)).toEqual({ result: 'Succeeded' });
    expect(terminalVerdict(status('Canceled'), { ...idle, cancelRequested: true }).error?.code).toBe(
      'CanceledByRequest',
    );
    expect(
      terminalVerdict(status('Canceled'), { ...idle, cancelRequested: true, timedOut: true }),
    ).toMatchObject({
      result: 'TimedOut',
      error: { code: 'BuildTimedOut' },
    });
    expect(terminalVerdict(status('Canceled', 'by someone'), idle)).toMatchObject({
      result: 'Canceled',
      error: { code: 'RunCanceled', message: 'by someone' },
    });
    expect(terminalVerdict(status('PartiallySucceeded', 'one region failed'), idle)).toMatchObject({
      result: 'Failed',
      error: { code: 'RunPartiallySucceeded' },
    });
    expect(
      terminalVerdict(status('Failed', 'Timeout waiting for microservice to complete', 'Customizing'), idle),
    ).toMatchObject({ result: 'TimedOut', error: { code: 'BuildTimedOut' } });
    expect(terminalVerdict(status('Failed', 'script exited 1', 'Customizing'), idle)).toMatchObject({
      result: 'Failed',
      error: { code: 'RunFailed', message: 'Customizing: script exited 1' },
    });
  });
});

describe('grantWaitSeconds', () => {
  it('backs off 30, 60, 120, 240, 240… and never waits past the bound', () => {
    expect([1, 2, 3, 4, 5].map((n) => grantWaitSeconds(n, 0, 3600))).toEqual([30, 60, 120, 240, 240]);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 0, max: 7200 }),
        fc.integer({ min: 60, max: 7200 }),
        (n, waited, bound) => {
          const d = grantWaitSeconds(n, waited, bound);
          if (waited >= bound) expect(d).toBe(0);
          else {
            expect(d).toBeGreaterThan(0);
            expect(waited + d).toBeLessThanOrEqual(bound);
            expect(d).toBeLessThanOrEqual(240);
          }
        },
      ),
    );
  });
});
