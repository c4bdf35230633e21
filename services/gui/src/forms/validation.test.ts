import { describe, expect, it } from 'vitest';
import { CreateFlowRequest, CreateScheduleRequest } from '@vaultflow/schemas';
import { ApiError } from '../api/api-error.js';
import { checkBody, fieldErrorsOf, humanize, toFieldErrors } from './validation.js';

describe('form validation with the API schemas', () => {
  it('names each bad field of a flow body with the messages the API would answer', () => {
    const errors = checkBody(CreateFlowRequest, { name: '', flow_type: 'backup', target_type: 'vm', target_id: '', vm_start_window_minutes: 0 });
    expect(errors).toMatchObject({ name: 'is required', target_id: 'is required', vm_start_window_minutes: 'must be at least 1' });
  });

  it('accepts a valid body', () => {
    expect(checkBody(CreateScheduleRequest, { name: 'Nightly', cron_expression: '0 2 * * *', timezone: 'UTC' })).toBeUndefined();
  });

  it('reports an unknown enum value with the allowed ones', () => {
    expect(checkBody(CreateFlowRequest, { name: 'x', flow_type: 'archive', target_type: 'vm', target_id: 'vm-1' })?.flow_type).toBe('must be one of: backup, replication');
  });

  it('maps the API error details (body.x.y) to the fields below the body, first message per field', () => {
    expect(toFieldErrors([{ field: 'body.name', message: 'is already used' }, { field: 'body.name', message: 'second' }, { field: 'body.retention.keep_last', message: 'must be >= 1' }])).toEqual({ name: 'is already used', 'retention.keep_last': 'must be at least 1' });
    expect(fieldErrorsOf(new ApiError(409, 'FLOW_NAME_TAKEN', 'taken', [{ field: 'body.name', message: 'is already used by another flow' }]))).toEqual({ name: 'is already used by another flow' });
    expect(fieldErrorsOf(new Error('boom'))).toEqual({});
  });

  it('rewords the validator\'s terse phrases', () => {
    expect(humanize('must NOT have more than 255 characters')).toBe('must be at most 255 characters');
    expect(humanize('must NOT have fewer than 12 characters')).toBe('must be at least 12 characters');
    expect(humanize('must be integer')).toBe('must be a whole number');
    expect(humanize('is not a valid cron expression: bad')).toBe('is not a valid cron expression: bad');
  });
});
