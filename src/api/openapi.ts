/**
 * The OpenAPI 3.1 description of the HTTP API, generated from the zod schemas that validate the requests
 * (src/api/schemas.ts): components from the schema registry, query parameters from the query schema.
 */
import { z } from 'zod';
import { apiSchemas, listBuildsQuerySchema, MAX_BODY_BYTES } from './schemas.js';

type JsonObject = Record<string, unknown>;

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
const jsonContent = (id: string) => ({ 'application/json': { schema: ref(id) } });
const problemResponse = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: ref('Problem') } },
});

function componentSchemas(): JsonObject {
  const { schemas } = z.toJSONSchema(apiSchemas, {
    uri: (id) => `#/components/schemas/${id}`,
    unrepresentable: 'any',
  });
  const out: JsonObject = {};
  for (const [id, schema] of Object.entries(schemas)) {
    const { $schema: _s, $id: _i, ...rest } = schema as JsonObject;
    out[id] = rest;
  }
  return out;
}

function queryParameters(): JsonObject[] {
  const shape = listBuildsQuerySchema.shape;
  return Object.entries(shape).map(([name, schema]) => {
    const { $schema: _s, ...json } = z.toJSONSchema(schema as z.ZodType, {
      io: 'input',
      unrepresentable: 'any',
    }) as JsonObject;
    const description = (json.description as string | undefined) ?? undefined;
    return { name, in: 'query', required: false, schema: json, ...(description ? { description } : {}) };
  });
}

const buildIdParameter = {
  name: 'id',
  in: 'path',
  required: true,
  description: 'Build id as returned by POST /api/builds.',
  schema: { type: 'string' },
};

export function openApiDocument(serverUrl?: string): JsonObject {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Jump-box image builder',
      version: '1.0.0',
      description:
        'Builds the hardened AKS jump-box image with Azure VM Image Builder. One build per definition at a time.',
    },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
    security: [{ functionKeyHeader: [] }, { functionKeyQuery: [] }],
    paths: {
      '/api/builds': {
        post: {
          operationId: 'startBuild',
          summary: 'Start a build (or a dry run) of one image definition',
          requestBody: {
            required: true,
            description: `JSON, at most ${MAX_BODY_BYTES} bytes.`,
            content: jsonContent('StartBuildRequest'),
          },
          responses: {
            '202': {
              description: 'Build started; follow the Location header / statusUrl.',
              content: jsonContent('BuildAccepted'),
            },
            '200': {
              description: 'Dry run result (nothing was created).',
              content: jsonContent('DryRunResult'),
            },
            '400': problemResponse('Malformed JSON.'),
            '409': problemResponse('A build of this definition is running (runningBuildId, statusUrl).'),
            '413': problemResponse('Body too large.'),
            '415': problemResponse('Content-Type is not application/json.'),
            '422': problemResponse('Invalid fields (unknown definition, unknown fields, wrong types).'),
          },
        },
        get: {
          operationId: 'listBuilds',
          summary: 'Build records, newest first',
          parameters: queryParameters(),
          responses: {
            '200': { description: 'Build records.', content: jsonContent('BuildList') },
            '400': problemResponse('Invalid query parameter.'),
          },
        },
      },
      '/api/builds/{id}': {
        get: {
          operationId: 'getBuild',
          summary: 'A build record with its live status and custom status',
          parameters: [buildIdParameter],
          responses: {
            '200': { description: 'The build.', content: jsonContent('BuildDetail') },
            '400': problemResponse('Invalid build id.'),
            '404': problemResponse('No such build.'),
          },
        },
      },
      '/api/builds/{id}/cancel': {
        post: {
          operationId: 'cancelBuild',
          summary: 'Cancel a running build',
          parameters: [buildIdParameter],
          responses: {
            '202': { description: 'Cancellation requested.', content: jsonContent('CancelAccepted') },
            '404': problemResponse('No such build.'),
            '409': problemResponse('The build is not running.'),
          },
        },
      },
      '/api/definitions': {
        get: {
          operationId: 'listDefinitions',
          summary: 'Configured definitions with their last build and newest base-image version',
          responses: { '200': { description: 'Definitions.', content: jsonContent('DefinitionList') } },
        },
      },
      '/api/openapi.json': {
        get: {
          operationId: 'openApi',
          summary: 'This document',
          responses: { '200': { description: 'OpenAPI 3.1 document.' } },
        },
      },
    },
    components: {
      schemas: componentSchemas(),
      securitySchemes: {
        functionKeyHeader: { type: 'apiKey', in: 'header', name: 'x-functions-key' },
        functionKeyQuery: { type: 'apiKey', in: 'query', name: 'code' },
      },
    },
  };
}
