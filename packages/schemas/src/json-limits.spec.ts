import { expect } from 'chai';
import { Type } from '@sinclair/typebox';
import { JSON_LIMITS_KEYWORD, jsonLimitProblem, type JsonLimits } from './json-limits.js';
import { validate } from './validator.js';

const limits: JsonLimits = { maxDepth: 3, maxBytes: 64, maxStringLength: 8 };

describe('schemas/json-limits', () => {
  it('counts the value itself as the first level of depth', () => {
    expect(jsonLimitProblem({ a: [{ b: 1 }] }, limits)).to.equal(undefined);
    expect(jsonLimitProblem({ a: [{ b: [] }] }, limits)).to.match(/more than 3 levels/);
    expect(jsonLimitProblem('plain', limits)).to.equal(undefined);
  });

  it('bounds strings and keys at any depth, and the JSON text in UTF-8 bytes', () => {
    expect(jsonLimitProblem({ a: ['12345678'] }, limits)).to.equal(undefined);
    expect(jsonLimitProblem({ a: ['123456789'] }, limits)).to.match(/string longer than 8/);
    expect(jsonLimitProblem({ a: { '123456789': 1 } }, limits)).to.match(/key longer than 8/);
    expect(jsonLimitProblem({ a: 'ééééé', b: 'ééééé', c: 'ééééé', d: 'ééé' }, limits)).to.match(/larger than 64 bytes/);
    expect(jsonLimitProblem({ a: 'eeeee', b: 'eeeee', c: 'eeeee', d: 'eee' }, limits)).to.equal(undefined);
  });

  it('checks a value of any depth without exhausting the stack', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(jsonLimitProblem(deep, limits)).to.match(/more than 3 levels/);
  });

  it('is a schema keyword: validation fails naming the field that carries it', () => {
    const schema = Type.Object({ cfg: Type.Record(Type.String(), Type.Unknown(), { [JSON_LIMITS_KEYWORD]: limits }) });
    expect(validate('body', schema, { cfg: { a: [[1]] } }).ok).to.equal(true);
    const bad = validate('body', schema, { cfg: { a: [[[1]]] } });
    expect(bad).to.deep.equal({ ok: false, issues: [{ field: 'body.cfg', message: 'is nested more than 3 levels deep' }] });
  });
});
