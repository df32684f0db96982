/** GET /api/openapi.json: the OpenAPI description generated from the request/response schemas. */
import { app } from '@azure/functions';
import { runApi } from '../api/functions-adapter.js';
import { json } from '../api/http-types.js';
import { openApiDocument } from '../api/openapi.js';
import { httpAuthLevel } from './http-auth-level.js';

app.http('openApi', {
  route: 'openapi.json',
  methods: ['GET'],
  authLevel: httpAuthLevel(),
  handler: (request, context) =>
    runApi(context, async () => json(200, openApiDocument(new URL(request.url).origin))),
});
