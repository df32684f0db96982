/**
 * Event Grid trigger: a new version of a gallery image that a definition uses as its source starts a build
 * of that definition. The Event Grid extension answers subscription validation for this trigger; the core
 * also recognises validation events so that none is ever mistaken for a build request.
 */
import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { getConfig } from '../config.js';
import { buildRecordsFor } from '../records/build-records.js';
import { durableClientPort } from '../triggers/durable-client-port.js';
import { handleBaseImageEvent } from '../triggers/event-grid.js';

app.eventGrid('baseImageEvent', {
  extraInputs: [df.input.durableClient()],
  handler: async (event, context) => {
    const config = getConfig();
    await handleBaseImageEvent(
      {
        definitions: config.definitions,
        orchestrations: durableClientPort(df.getClient(context)),
        records: buildRecordsFor(config),
        log: { debug: (m) => context.debug(m), info: (m) => context.log(m), warn: (m) => context.warn(m) },
      },
      event,
    );
  },
});
