/** GET /api/definitions: configured definitions with their last build and newest base-image version. */
import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { apiDepsFor, runApi } from '../api/functions-adapter.js';
import { handleListDefinitions } from '../api/handlers/list-definitions.js';
import { httpAuthLevel } from './http-auth-level.js';

app.http('listDefinitions', {
  route: 'definitions',
  methods: ['GET'],
  authLevel: httpAuthLevel(),
  extraInputs: [df.input.durableClient()],
  handler: (_request, context) =>
    runApi(context, () => handleListDefinitions(apiDepsFor(df.getClient(context), context))),
});
