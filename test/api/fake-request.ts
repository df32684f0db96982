import { type ApiRequest, BodyTooLargeError } from '../../src/api/http-types.js';

export function fakeRequest(o: {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  params?: Record<string, string>;
}): ApiRequest {
  const url = `https://app.example.net${o.path ?? '/api/builds'}`;
  const headers = new Map(Object.entries(o.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    method: o.method ?? 'POST',
    url,
    header: (n) => headers.get(n.toLowerCase()) ?? null,
    params: o.params ?? {},
    query: new URL(url).searchParams,
    async text(max) {
      const body = o.body ?? '';
      if (Buffer.byteLength(body) > max) throw new BodyTooLargeError(max);
      return body;
    },
  };
}

export const JSON_HEADERS = { 'content-type': 'application/json' };
