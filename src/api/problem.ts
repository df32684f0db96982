/**
 * Errors as RFC 9457 problem details (`application/problem+json`), each naming the field and the reason.
 */
import type { z } from 'zod';
import type { ApiResponse } from './http-types.js';

export interface FieldError {
  readonly field: string;
  readonly reason: string;
}

export interface ProblemDetails {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly instance?: string | undefined;
  readonly errors?: readonly FieldError[] | undefined;
  readonly [extension: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad request',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'Conflict',
  413: 'Payload too large',
  415: 'Unsupported media type',
  422: 'Unprocessable request',
  500: 'Internal error',
  501: 'Not implemented',
  502: 'Upstream error',
  503: 'Service unavailable',
};

/** A problem+json response. `type` is a stable slug under the API's problem namespace. */
export function problem(
  status: number,
  slug: string,
  detail: string,
  extensions: Record<string, unknown> = {},
): ApiResponse {
  const body: ProblemDetails = {
    type: `urn:jumpbox-builder:problem:${slug}`,
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    ...extensions,
  };
  return { status, headers: { 'Content-Type': 'application/problem+json' }, jsonBody: body };
}

/** Field path as `a.b[2].c`; the root is `(body)` / `(query)`. */
export function fieldPath(path: readonly PropertyKey[], root: string): string {
  if (path.length === 0) return root;
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
    .join('');
}

/** One FieldError per zod issue; unknown keys become one error per key. */
export function fieldErrors(error: z.ZodError, root: string): FieldError[] {
  const out: FieldError[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        out.push({
          field: fieldPath([...issue.path, key], root),
          reason: 'is not a known field; remove it',
        });
      }
    } else if (issue.code === 'invalid_type') {
      const received = issue.input === undefined ? 'nothing' : describe(issue.input);
      out.push({
        field: fieldPath(issue.path, root),
        reason:
          issue.input === undefined
            ? `is required (${issue.expected})`
            : `must be ${article(issue.expected)}, got ${received}`,
      });
    } else {
      out.push({ field: fieldPath(issue.path, root), reason: issue.message });
    }
  }
  return out;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return article(typeof v);
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

export function validationProblem(
  status: 400 | 422,
  errors: readonly FieldError[],
  what: string,
): ApiResponse {
  const summary = errors.map((e) => `${e.field} ${e.reason}`).join('; ');
  return problem(status, 'validation', `${what}: ${summary}`, { errors });
}
