/**
 * How long to wait before asking Image Builder again after it refused for lack of rights while the grant
 * was young (pure; the flow waits on a durable timer, never inside an activity).
 *
 * Backoff 30 s, 60 s, 120 s, then every 240 s; the last wait lands on the bound so that the final attempt
 * is made when the grant is exactly `timeoutSeconds` old. 0 = give up (the bound has passed).
 * Azure documents that role assignment changes can take up to 10 minutes to take effect, and longer has
 * been reported for managed identities (learn.microsoft.com/azure/role-based-access-control/troubleshooting;
 * Microsoft Q&A 524792: "up to 30 minutes"), hence the default bound of 30 minutes.
 */
export const GRANT_RETRY_FIRST_SECONDS = 30;
export const GRANT_RETRY_MAX_SECONDS = 240;

/**
 * @param refusal   1 for the first refusal, 2 for the second…
 * @param waited    seconds since the grant was made
 * @param timeoutSeconds the bound (GRANT_PROPAGATION_TIMEOUT_MINUTES × 60)
 */
export function grantWaitSeconds(refusal: number, waited: number, timeoutSeconds: number): number {
  const remaining = timeoutSeconds - waited;
  if (remaining <= 0) return 0;
  const backoff = Math.min(
    GRANT_RETRY_MAX_SECONDS,
    GRANT_RETRY_FIRST_SECONDS * 2 ** Math.max(0, refusal - 1),
  );
  return Math.min(backoff, remaining);
}
