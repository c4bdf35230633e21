import { expect } from 'chai';
import { Type } from '@sinclair/typebox';
import { validate, withArticle } from './validator.js';
import { CreateScheduleRequest } from './schedules.js';

describe('schemas/validator messages', () => {
  it('says what a described pattern expects, naming the field', () => {
    const v = validate('body', CreateScheduleRequest, { name: 'n', cron_expression: '0 2 * * *;' });
    expect(v).to.deep.equal({ ok: false, issues: [{ field: 'body.cron_expression', message: 'must be a cron expression with 5 fields (minute hour day month weekday), or 6 with seconds first' }] });
  });

  it('keeps the plain refusal for a pattern without a description', () => {
    const v = validate('body', Type.Object({ code: Type.String({ pattern: '^[a-z]+$' }) }), { code: 'A1' });
    expect(v).to.deep.equal({ ok: false, issues: [{ field: 'body.code', message: 'has a form that is not allowed' }] });
  });

  it('says what a format expects, whatever the field describes', () => {
    const schema = Type.Object({ since: Type.String({ format: 'date-time', description: 'only rows after this' }), mail: Type.String({ format: 'email' }), odd: Type.String({ format: 'ipv4', description: 'the address of the host' }) });
    const v = validate('query', schema, { since: 'yesterday', mail: 'nobody', odd: '1.2.3' });
    expect(v).to.deep.equal({
      ok: false,
      issues: [
        { field: 'query.since', message: 'must be a date and time in RFC 3339 form, e.g. 2026-11-27T13:00:00Z' },
        { field: 'query.mail', message: 'must be an e-mail address' },
        { field: 'query.odd', message: 'must be an IPv4 address' },
      ],
    });
  });

  it('puts the right article before a description', () => {
    expect(withArticle('host name or IP address')).to.equal('a host name or IP address');
    expect(withArticle('absolute path')).to.equal('an absolute path');
    expect(withArticle('IANA time zone')).to.equal('an IANA time zone');
    expect(withArticle('a cron expression')).to.equal('a cron expression');
    expect(withArticle('5 fields')).to.equal('5 fields');
  });
});
