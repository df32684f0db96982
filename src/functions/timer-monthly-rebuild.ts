/**
 * Monthly rebuild of every definition. The schedule is the MONTHLY_REBUILD_SCHEDULE app setting, resolved
 * by the host through the %SETTING% binding expression (the setting must exist; infra sets the default).
 */
import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { getConfig } from '../config.js';
import { buildRecordsFor } from '../records/build-records.js';
import { durableClientPort } from '../triggers/durable-client-port.js';
import { rebuildAllDefinitions } from '../triggers/monthly-rebuild.js';

app.timer('monthlyRebuild', {
  schedule: '%MONTHLY_REBUILD_SCHEDULE%',
  extraInputs: [df.input.durableClient()],
  handler: async (timer, context) => {
    const config = getConfig();
    await rebuildAllDefinitions(
      {
        definitions: config.definitions,
        orchestrations: durableClientPort(df.getClient(context)),
        records: buildRecordsFor(config),
        schedule: config.schedules.monthlyRebuild,
        startSpreadMinutes: config.schedules.fleetStartSpreadMinutes,
        log: { info: (m) => context.log(m), warn: (m) => context.warn(m) },
      },
      timer.isPastDue,
    );
  },
});
