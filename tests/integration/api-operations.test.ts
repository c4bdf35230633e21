import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { allEndpoints, openApiPath, renderApiMarkdown } from '@vaultflow/schemas';
import { startHub, type TestHub } from '../support/hub.js';
import { makeBackupFlow } from '../support/fixtures.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('flows-api: operations, OpenAPI and docs', () => {
  let hub: TestHub;
  before(async () => {
    hub = await startHub();
  });
  after(async () => hub?.stop());

  it('/healthz answers without a token; /readyz reports MariaDB and Redis', async () => {
    expect((await hub.anonymous.get('/healthz')).body).to.deep.equal({ status: 'ok' });
    const ready = await hub.anonymous.get('/readyz');
    expect(ready.status).to.equal(200);
    expect(ready.body).to.deep.equal({ status: 'ready', database: true, redis: true });
  });

  it('/readyz answers 503 when Redis is unreachable', async () => {
    const redis = hub.redis;
    const original = redis.ping.bind(redis);
    (redis as unknown as { ping: () => Promise<string> }).ping = () => Promise.reject(new Error('down'));
    try {
      const ready = await hub.anonymous.get('/readyz');
      expect(ready.status).to.equal(503);
      expect(ready.body).to.include({ database: true, redis: false });
    } finally {
      (redis as unknown as { ping: typeof original }).ping = original;
    }
  });

  it('/metrics exports request durations by route and flows by type and state', async () => {
    await makeBackupFlow(hub);
    await makeBackupFlow(hub, { enabled: false });
    await hub.admin.get('/api/v1/protection-flows/summary');
    const text = (await hub.anonymous.get('/metrics')).body as string;
    expect(text).to.match(/http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/protection-flows\/summary",status_code="200"\} \d+/);
    expect(text).to.match(/vaultflow_flows\{flow_type="backup",state="enabled"\} 1\n/);
    expect(text).to.match(/vaultflow_flows\{flow_type="backup",state="disabled"\} 1\n/);
    expect(text).to.match(/vaultflow_flows\{flow_type="replication",state="enabled"\} 0\n/);
  });

  it('answers unknown routes with a JSON 404 and echoes a given X-Request-Id', async () => {
    const res = await hub.admin.req('GET', '/api/v1/nothing-here', undefined, { 'x-request-id': 'req-abc-123' });
    expect(res.status).to.equal(404);
    expect(res.body.error).to.include({ code: 'ROUTE_NOT_FOUND', request_id: 'req-abc-123' });
    expect(res.headers.get('x-request-id')).to.equal('req-abc-123');
  });

  it('serves an OpenAPI 3.1 document with every endpoint, its permission and its schemas', async () => {
    const doc = (await hub.admin.get('/api/v1/openapi.json')).body;
    expect(doc.openapi).to.equal('3.1.0');
    for (const e of allEndpoints) {
      const op = doc.paths[`/api/v1${openApiPath(e.path)}`]?.[e.method];
      expect(op, `${e.method} ${e.path}`).to.be.an('object');
      expect(op.operationId).to.equal(e.operationId);
      if (e.body) expect(op.requestBody.content['application/json'].schema).to.be.an('object');
    }
    const refs = JSON.stringify(doc).match(/#\/components\/schemas\/([A-Za-z]+)/g) ?? [];
    for (const ref of refs) expect(doc.components.schemas, ref).to.have.property(ref.split('/').pop()!);
    expect(doc.components.schemas.CreateFlowRequest.additionalProperties).to.equal(false);
    expect(Object.keys(doc.components.schemas.FlowResponse.properties)).to.include.members(['target_name', 'repository_name', 'policy_name', 'schedule_name', 'schedule_cron', 'status']);
  });

  it('docs/api.md is the generated reference of the current schemas (run npm run docs:api)', () => {
    const onDisk = readFileSync(path.join(ROOT, 'docs/api.md'), 'utf8');
    expect(onDisk === renderApiMarkdown(allEndpoints), 'docs/api.md is stale: run npm run docs:api').to.equal(true);
  });
});
