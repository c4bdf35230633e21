import type { TSchema } from '@sinclair/typebox';
import { schemaName } from './common.js';
import type { Endpoint } from './endpoint.js';
import { openApiPath } from './openapi.js';

type S = TSchema & { type?: string | string[]; enum?: unknown[]; anyOf?: S[]; items?: S; properties?: Record<string, S>; required?: string[]; minLength?: number; maxLength?: number; minimum?: number; maximum?: number; pattern?: string; format?: string; description?: string; default?: unknown; minItems?: number; maxItems?: number };

function typeOf(s: S): string {
  if (s.enum) return s.enum.map((v) => `\`${String(v)}\``).join(' \\| ');
  if (s.anyOf) return s.anyOf.map(typeOf).join(' \\| ');
  if (s.type === 'array') return `${s.items ? typeOf(s.items) : 'any'}[]`;
  if (s.type === 'object') return schemaName(s) ?? 'object';
  if (s.format) return `${String(s.type)} (${s.format})`;
  return String(s.type ?? 'any');
}

function rules(s: S): string {
  const target = s.anyOf?.find((x) => x.type !== 'null') ?? s;
  const r: string[] = [];
  if (target.minLength !== undefined || target.maxLength !== undefined) r.push(`length ${target.minLength ?? 0}-${target.maxLength ?? '∞'}`);
  if (target.minimum !== undefined || target.maximum !== undefined) r.push(`${target.minimum ?? '-∞'}..${target.maximum ?? '∞'}`);
  if (target.minItems !== undefined || target.maxItems !== undefined) r.push(`${target.minItems ?? 0}-${target.maxItems ?? '∞'} items`);
  if (target.default !== undefined) r.push(`default ${JSON.stringify(target.default)}`);
  if (target.description) r.push(target.description);
  return r.join('; ');
}

function fieldTable(title: string, schema: S | undefined): string[] {
  if (!schema?.properties) return [];
  const req = new Set(schema.required ?? []);
  const out = [`${title}:`, '', '| field | type | required | rules |', '|---|---|---|---|'];
  for (const [name, p] of Object.entries(schema.properties)) out.push(`| \`${name}\` | ${typeOf(p)} | ${req.has(name) && p.default === undefined ? 'yes' : 'no'} | ${rules(p).replace(/\|/g, '\\|')} |`);
  out.push('');
  return out;
}

/** The Markdown reference of the API (docs/api.md), generated from the endpoint descriptions. */
export function renderApiMarkdown(endpoints: Endpoint[]): string {
  const out: string[] = [
    '# Vaultflow API reference',
    '',
    'Generated from the schemas that validate every request (`npm run docs:api`); the same schemas are served as',
    'OpenAPI 3.1 at `/api/v1/openapi.json`. Every route needs `Authorization: Bearer <token>` (a session token from',
    '`POST /api/v1/auth/login` or an API token) unless marked public. Permissions: `read` (viewer, operator, admin),',
    '`operate` (operator, admin), `configure` and `administer` (admin).',
    '',
    'Errors are `{"error": {"code", "message", "details": [{"field", "message"}], "request_id"}}`: 400 invalid input',
    '(each bad field named), 401 no or bad token, 403 role too low, 404 not found, 409 conflict (duplicate name, in use),',
    '422 a reference that does not exist or cannot be used, 429 too many login attempts, 503 a dependency is down.',
    '',
  ];
  const tags = [...new Set(endpoints.map((e) => e.tag))];
  for (const tag of tags) {
    out.push(`## ${tag}`, '', '| method | path | permission | what it does |', '|---|---|---|---|');
    const group = endpoints.filter((e) => e.tag === tag);
    for (const e of group) out.push(`| ${e.method.toUpperCase()} | \`/api/v1${openApiPath(e.path)}\` | ${e.permission} | ${e.summary} |`);
    out.push('');
    for (const e of group) {
      const body = e.body as S | undefined;
      const query = e.query as S | undefined;
      if (!body?.properties && !query?.properties && !e.description) continue;
      out.push(`### ${e.method.toUpperCase()} /api/v1${openApiPath(e.path)}`, '');
      if (e.description) out.push(e.description, '');
      out.push(...fieldTable('Query parameters', query), ...fieldTable(`Body (${schemaName(body as TSchema) ?? 'object'})`, body));
      const ok = Object.entries(e.responses).find(([s]) => s.startsWith('2'));
      if (ok) out.push(`Answers ${ok[0]}${ok[1] ? ` with ${schemaName(ok[1]) ?? 'an object'}` : e.produces ? ` with ${e.produces}` : ''}.`, '');
    }
  }
  return out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd() + '\n';
}
