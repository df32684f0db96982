/** GET /api/builds/{id}: record plus live status. */
import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { apiDepsFor, runApi, toApiRequest } from '../api/functions-adapter.js';
import { handleGetBuild } from '../api/handlers/get-build.js';
import { httpAuthLevel } from './http-auth-level.js';

app.http('getBuild', {
  route: 'builds/{id}',
  methods: ['GET'],
  authLevel: httpAuthLevel(),
  extraInputs: [df.input.durableClient()],
  handler: (request, context) =>
    runApi(context, () => handleGetBuild(apiDepsFor(df.getClient(context), context), toApiRequest(request))),
});
