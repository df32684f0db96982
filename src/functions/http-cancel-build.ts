/** POST /api/builds/{id}/cancel: ask a running build to cancel. */
import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { apiDepsFor, runApi, toApiRequest } from '../api/functions-adapter.js';
import { handleCancelBuild } from '../api/handlers/cancel-build.js';
import { httpAuthLevel } from './http-auth-level.js';

app.http('cancelBuild', {
  route: 'builds/{id}/cancel',
  methods: ['POST'],
  authLevel: httpAuthLevel(),
  extraInputs: [df.input.durableClient()],
  handler: (request, context) =>
    runApi(context, () =>
      handleCancelBuild(apiDepsFor(df.getClient(context), context), toApiRequest(request)),
    ),
});
