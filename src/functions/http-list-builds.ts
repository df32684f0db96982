/** GET /api/builds: build records, newest first, filtered. */
import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { apiDepsFor, runApi, toApiRequest } from '../api/functions-adapter.js';
import { handleListBuilds } from '../api/handlers/list-builds.js';
import { httpAuthLevel } from './http-auth-level.js';

app.http('listBuilds', {
  route: 'builds',
  methods: ['GET'],
  authLevel: httpAuthLevel(),
  extraInputs: [df.input.durableClient()],
  handler: (request, context) =>
    runApi(context, () =>
      handleListBuilds(apiDepsFor(df.getClient(context), context), toApiRequest(request)),
    ),
});
