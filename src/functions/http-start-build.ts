/** POST /api/builds: start a build (or a dry run) of one definition. */
import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { apiDepsFor, runApi, toApiRequest } from '../api/functions-adapter.js';
import { handleStartBuild } from '../api/handlers/start-build.js';
import { httpAuthLevel } from './http-auth-level.js';

app.http('startBuild', {
  route: 'builds',
  methods: ['POST'],
  authLevel: httpAuthLevel(),
  extraInputs: [df.input.durableClient()],
  handler: (request, context) =>
    runApi(context, () =>
      handleStartBuild(apiDepsFor(df.getClient(context), context), toApiRequest(request)),
    ),
});
