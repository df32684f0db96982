/**
 * Base-image watcher: starts a build when a numerically newer marketplace version of a definition's source is
 * published. Schedule from the BASE_IMAGE_CHECK_SCHEDULE app setting (%SETTING% binding expression).
 */
import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { getAzureClients } from '../azure/clients.js';
import { getConfig } from '../config.js';
import { buildRecordsFor } from '../records/build-records.js';
import { checkBaseImages } from '../triggers/base-image-watcher.js';
import { durableClientPort } from '../triggers/durable-client-port.js';
import { listMarketplaceVersions } from '../triggers/marketplace-versions.js';

app.timer('baseImageCheck', {
  schedule: '%BASE_IMAGE_CHECK_SCHEDULE%',
  extraInputs: [df.input.durableClient()],
  handler: async (_timer, context) => {
    const config = getConfig();
    const clients = getAzureClients(config);
    await checkBaseImages({
      definitions: config.definitions,
      orchestrations: durableClientPort(df.getClient(context)),
      records: buildRecordsFor(config, clients),
      listVersions: (publisher, offer, sku) =>
        listMarketplaceVersions(clients.compute, config.location, { publisher, offer, sku }),
      log: { info: (m) => context.log(m), warn: (m) => context.warn(m) },
    });
  },
});
