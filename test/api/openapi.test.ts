import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../../src/api/openapi.js';
import { startBuildRequestSchema } from '../../src/api/schemas.js';

describe('OpenAPI document', () => {
  const doc = openApiDocument('https://app.example.net') as {
    openapi: string;
    paths: Record<
      string,
      Record<string, { parameters?: { name: string }[]; responses: Record<string, unknown> }>
    >;
    components: {
      schemas: Record<
        string,
        { properties?: Record<string, unknown>; required?: string[]; additionalProperties?: unknown }
      >;
    };
  };

  it('describes every route of the API', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        '/api/builds',
        '/api/builds/{id}',
        '/api/builds/{id}/cancel',
        '/api/definitions',
        '/api/openapi.json',
      ].sort(),
    );
    expect(Object.keys(doc.paths['/api/builds']!.post!.responses)).toEqual(
      expect.arrayContaining(['202', '400', '409', '413', '415', '422']),
    );
    expect(doc.paths['/api/builds']!.get!.parameters?.map((p) => p.name)).toEqual([
      'definition',
      'status',
      'top',
    ]);
  });

  it('generates the request schema from the zod schema that validates requests', () => {
    const req = doc.components.schemas.StartBuildRequest!;
    expect(Object.keys(req.properties ?? {}).sort()).toEqual(
      Object.keys(startBuildRequestSchema.shape).sort(),
    );
    expect(req.required).toEqual(['definition']);
    expect(req.additionalProperties).toBe(false);
  });

  it('documents why the logs were not archived on a build record (logArchivalError), not required', () => {
    const record = doc.components.schemas.BuildRecord!;
    expect(Object.keys(record.properties ?? {})).toContain('logArchivalError');
    expect(record.required ?? []).not.toContain('logArchivalError');
    expect(JSON.stringify(record.properties?.logArchivalError)).toContain('LogArchivalFailed');
  });

  it('documents the SHA-256 of the archived SBOM, report and provenance on a build record: optional, 64 hex', () => {
    const record = doc.components.schemas.BuildRecord!;
    for (const field of ['sbomSha256', 'provenanceSha256', 'vulnerabilitiesSha256']) {
      expect(record.required ?? [], field).not.toContain(field);
      expect(record.properties?.[field], field).toMatchObject({ type: 'string', pattern: '^[0-9a-f]{64}$' });
    }
    expect(JSON.stringify(record.properties?.provenanceSha256)).toContain('jumpbox-provenance-sha256');
  });

  it('resolves every $ref to a component', () => {
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/(\w+)"/g)].map(
      (m) => m[1]!,
    );
    expect(refs.length).toBeGreaterThan(5);
    for (const r of refs) expect(doc.components.schemas[r], r).toBeDefined();
  });
});
