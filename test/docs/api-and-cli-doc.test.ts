/** docs/api-and-cli.md is kept in step with the OpenAPI document the app serves and with the CLI. */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../../src/api/openapi.js';

const page = readFileSync(new URL('../../docs/api-and-cli.md', import.meta.url), 'utf8');
const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('docs/api-and-cli.md', () => {
  // The document GET /api/openapi.json serves (src/functions/http-openapi.ts returns openApiDocument()).
  const doc = openApiDocument('https://app.example.net') as {
    paths: Record<string, Record<string, unknown>>;
  };
  const routes = Object.entries(doc.paths).flatMap(([path, ops]) =>
    METHODS.filter((m) => m in ops).map((m) => `${m.toUpperCase()} ${path}`),
  );

  it('the OpenAPI document has routes (the check below is not vacuous)', () => {
    expect(routes.length).toBeGreaterThanOrEqual(6);
  });

  it.each(routes)('documents %s in the HTTP API table', (route) => {
    // `METHOD /path` followed by the end of the code span, a query string or a space.
    expect(page).toMatch(new RegExp(`\`${escapeRegExp(route)}(\`|\\?| )`));
  });

  it('lists every CLI command in the command table', () => {
    const commands = readdirSync(fileURLToPath(new URL('../../src/cli/commands', import.meta.url)))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => f.slice(0, -3));
    for (const c of commands) expect(page).toMatch(new RegExp(`^\\| \`${c}\` \\|`, 'm'));
  });
});
