/**
 * The NOTIFY_ACTIVITY body: posts the terminal summary of a build when NOTIFICATION_WEBHOOK_URL is set.
 * Resolves in every case (no-op when unset); the report says what happened.
 */
import type { BuildOutput } from '../orchestration/contracts.js';
import { type DeliveryOptions, type DeliveryReport, deliverSummary, summaryOf } from './webhook.js';

export type NotifyResult =
  | { readonly skipped: true; readonly reason: string }
  | (DeliveryReport & { skipped: false });

function looksLikeOutput(v: unknown): v is BuildOutput {
  const o = v as Partial<BuildOutput> | undefined;
  return (
    !!o &&
    typeof o === 'object' &&
    typeof o.buildId === 'string' &&
    typeof o.definition === 'string' &&
    typeof o.result === 'string'
  );
}

export async function notifyBuildResult(
  webhookUrl: string | undefined,
  output: unknown,
  log: { info(m: string): void; warn(m: string): void },
  options?: DeliveryOptions,
): Promise<NotifyResult> {
  if (!webhookUrl) return { skipped: true, reason: 'no NOTIFICATION_WEBHOOK_URL configured' };
  if (!looksLikeOutput(output)) {
    log.warn('notification skipped: the activity input is not a build output');
    return { skipped: true, reason: 'input is not a build output' };
  }
  try {
    const report = await deliverSummary(webhookUrl, summaryOf(output), options);
    const line = `notification for build ${output.buildId} to ${report.target}: ${
      report.delivered ? 'delivered' : `not delivered (${report.lastError ?? 'unknown error'})`
    } after ${report.attempts} attempt(s)`;
    if (report.delivered) log.info(line);
    else log.warn(line);
    return { ...report, skipped: false };
  } catch (e) {
    log.warn(
      `notification for build ${output.buildId} failed: ${e instanceof Error ? e.message : String(e)}`,
    );
    return { skipped: true, reason: 'unexpected error' };
  }
}
