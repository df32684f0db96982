/** GET /api/dashboard: the build dashboard (HTML) behind the same auth as the API (function key or `?code=`). */
import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { handleDashboard } from '../api/dashboard.js';
import { apiDepsFor } from '../api/functions-adapter.js';

app.http('dashboard', {
  route: 'dashboard',
  methods: ['GET'],
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: async (_request, context) => {
    try {
      const page = await handleDashboard(apiDepsFor(df.getClient(context), context));
      return { status: page.status, headers: { ...page.headers }, body: page.body };
    } catch (e) {
      context.error(`dashboard failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      return {
        status: 500,
        headers: { 'Content-Type': 'text/plain; charset=utf-8' },
        body: `The dashboard could not be rendered (invocation ${context.invocationId}); see the app logs.`,
      };
    }
  },
});
