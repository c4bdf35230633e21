import type { TSchema } from '@sinclair/typebox';
import { ErrorResponse, schemaName } from './common.js';
import type { Endpoint } from './endpoint.js';

type Json = Record<string, unknown>;

const ERROR_STATUSES: Record<number, string> = {
  400: 'Invalid input; `details` names each field',
  401: 'Missing or invalid token',
  403: 'Role does not allow this',
  404: 'Not found',
  409: 'Conflict: duplicate name or entity in use',
  416: 'The requested range is outside the resource',
  422: 'A referenced object does not exist or cannot be used',
  429: 'Too many requests',
};

/** `/protection-flows/:id` -> `/protection-flows/{id}` */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z]+)/g, '{$1}');
}

function plain(schema: TSchema): Json {
  return JSON.parse(JSON.stringify(schema)) as Json;
}

/** Assembles an OpenAPI 3.1 document from the endpoint descriptions (the same schemas that validate). */
export function buildOpenApi(endpoints: Endpoint[], info: { title: string; version: string; description?: string }): Json {
  const components: Record<string, Json> = {};
  const ref = (schema: TSchema): Json => {
    const name = schemaName(schema);
    if (!name) return plain(schema);
    components[name] ??= plain(schema);
    return { $ref: `#/components/schemas/${name}` };
  };
  const paths: Record<string, Record<string, Json>> = {};
  for (const e of endpoints) {
    const parameters: Json[] = [];
    for (const [where, schema] of [['path', e.params], ['query', e.query]] as const) {
      const props = (schema as { properties?: Record<string, TSchema>; required?: string[] } | undefined)?.properties ?? {};
      const required = (schema as { required?: string[] } | undefined)?.required ?? [];
      for (const [name, s] of Object.entries(props)) {
        parameters.push({ name, in: where, required: where === 'path' || (required.includes(name) && (s as { default?: unknown }).default === undefined), schema: plain(s) });
      }
    }
    const responses: Record<string, Json> = {};
    for (const [status, schema] of Object.entries(e.responses)) {
      responses[status] = schema
        ? { description: status.startsWith('2') ? 'Success' : (ERROR_STATUSES[Number(status)] ?? 'Error'), content: { 'application/json': { schema: ref(schema) } } }
        : e.produces && status.startsWith('2')
          ? { description: 'Success', content: { [e.produces]: { schema: { type: 'string', format: 'binary' } } } }
          : { description: 'Success, no content' };
    }
    const errors = e.permission === 'public' ? [400, 429] : [400, 401, 403, 404, 409, 422];
    for (const status of errors) {
      responses[status] ??= { description: ERROR_STATUSES[status], content: { 'application/json': { schema: ref(ErrorResponse) } } };
    }
    const op: Json = {
      operationId: e.operationId,
      tags: [e.tag],
      summary: e.summary,
      ...(e.description ? { description: e.description } : {}),
      ...(e.permission === 'public' ? { security: [] } : { 'x-required-permission': e.permission }),
      ...(parameters.length ? { parameters } : {}),
      ...(e.body ? { requestBody: { required: true, content: { 'application/json': { schema: ref(e.body) } } } } : {}),
      responses,
    };
    const p = `/api/v1${openApiPath(e.path)}`;
    (paths[p] ??= {})[e.method] = op;
  }
  return {
    openapi: '3.1.0',
    info,
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A session token from /api/v1/auth/login or an API token' } },
      schemas: components,
    },
  };
}
