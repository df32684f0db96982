/** NOTIFY_ACTIVITY: posts the terminal build summary to NOTIFICATION_WEBHOOK_URL (no-op when unset; never fails). */
import * as df from 'durable-functions';
import { getConfig } from '../config.js';
import { notifyBuildResult } from '../notify/notify-activity.js';
import { NOTIFY_ACTIVITY } from '../orchestration/contracts.js';

df.app.activity(NOTIFY_ACTIVITY, {
  handler: async (input: unknown, context) =>
    notifyBuildResult(getConfig().notificationWebhookUrl, input, {
      info: (m) => context.log(m),
      warn: (m) => context.warn(m),
    }),
});
