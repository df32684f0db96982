/** Reads and validates a JSON request body: media type (415), size (413), syntax (400), schema (422). */
import type { z } from 'zod';
import { type ApiRequest, type ApiResponse, BodyTooLargeError } from './http-types.js';
import { fieldErrors, problem, validationProblem } from './problem.js';
import { MAX_BODY_BYTES } from './schemas.js';

export type BodyResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly response: ApiResponse };

function isJsonMediaType(contentType: string | null): boolean {
  if (!contentType) return false;
  const media = contentType.split(';')[0]!.trim().toLowerCase();
  return media === 'application/json';
}

export async function readJsonBody<S extends z.ZodType>(
  request: ApiRequest,
  schema: S,
): Promise<BodyResult<z.infer<S>>> {
  const contentType = request.header('content-type');
  if (!isJsonMediaType(contentType)) {
    return {
      ok: false,
      response: problem(
        415,
        'unsupported-media-type',
        `Content-Type must be application/json, got ${contentType ? `"${contentType}"` : 'none'}; send a JSON body with Content-Type: application/json`,
        { errors: [{ field: 'Content-Type', reason: 'must be application/json' }] },
      ),
    };
  }
  const declared = Number(request.header('content-length') ?? '0');
  const tooLarge = () =>
    problem(413, 'payload-too-large', `The request body must be at most ${MAX_BODY_BYTES} bytes.`, {
      errors: [{ field: '(body)', reason: `must be at most ${MAX_BODY_BYTES} bytes` }],
    });
  if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) return { ok: false, response: tooLarge() };
  let text: string;
  try {
    text = await request.text(MAX_BODY_BYTES);
  } catch (e) {
    if (e instanceof BodyTooLargeError) return { ok: false, response: tooLarge() };
    throw e;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return {
      ok: false,
      response: problem(
        400,
        'malformed-json',
        `The request body is not valid JSON: ${(e as Error).message}`,
        {
          errors: [{ field: '(body)', reason: 'must be a JSON object' }],
        },
      ),
    };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return {
      ok: false,
      response: validationProblem(
        422,
        [{ field: '(body)', reason: 'must be a JSON object' }],
        'Invalid request',
      ),
    };
  }
  const r = schema.safeParse(parsed);
  if (!r.success) {
    return { ok: false, response: validationProblem(422, fieldErrors(r.error, '(body)'), 'Invalid request') };
  }
  return { ok: true, value: r.data };
}
