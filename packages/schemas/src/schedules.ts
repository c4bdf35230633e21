import { Type, type Static } from '@sinclair/typebox';
import { Description, Id, IdParams, Name, Nullable, StringEnum, Timestamp, listQuery, named } from './common.js';
import { endpoint } from './endpoint.js';

const Cron = Type.String({ minLength: 9, maxLength: 128, pattern: '^[0-9A-Za-z*/,?#LW\\- ]+$', description: 'a cron expression with 5 fields (minute hour day month weekday), or 6 with seconds first' });
const TimeZone = Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone, e.g. Europe/Berlin' });
const MisfireGrace = Type.Integer({ minimum: 0, maximum: 7 * 86400 });

const fields = {
  name: Name,
  cron_expression: Cron,
  timezone: Type.Optional(TimeZone),
  enabled: Type.Optional(Type.Boolean()),
  description: Type.Optional(Nullable(Description)),
  misfire_grace_seconds: Type.Optional(MisfireGrace),
};

export const CreateScheduleRequest = named('CreateScheduleRequest', Type.Object(fields, { additionalProperties: false }));
export type CreateScheduleRequest = Static<typeof CreateScheduleRequest>;
export const UpdateScheduleRequest = named('UpdateScheduleRequest', Type.Partial(Type.Object(fields), { additionalProperties: false, minProperties: 1 }));
export type UpdateScheduleRequest = Static<typeof UpdateScheduleRequest>;

export const ScheduleResponse = named(
  'ScheduleResponse',
  Type.Object({
    id: Type.String(),
    name: Type.String(),
    description: Nullable(Type.String()),
    cron_expression: Type.String(),
    timezone: Type.String(),
    enabled: Type.Boolean(),
    misfire_grace_seconds: Type.Integer(),
    next_fire_time: Nullable(Timestamp),
    flow_count: Type.Integer(),
    created_at: Timestamp,
    updated_at: Timestamp,
    created_by: Type.String(),
  }),
);
export type ScheduleResponse = Static<typeof ScheduleResponse>;

export const ScheduleListQuery = listQuery(['name', 'created_at', 'updated_at'] as const, {
  enabled: Type.Optional(Type.Boolean()),
  search: Type.Optional(Type.String({ maxLength: 255 })),
});
export type ScheduleListQuery = Static<typeof ScheduleListQuery>;
export const ScheduleListResponse = named('ScheduleListResponse', Type.Object({ schedules: Type.Array(ScheduleResponse), total: Type.Integer() }));

export const SchedulePreviewQuery = Type.Object(
  { count: Type.Integer({ minimum: 1, maximum: 100, default: 5 }) },
  { additionalProperties: false },
);
export const SchedulePreviewResponse = named(
  'SchedulePreviewResponse',
  Type.Object({
    schedule_id: Type.String(),
    cron_expression: Type.String(),
    timezone: Type.String(),
    fires: Type.Array(Type.Object({ at: Timestamp, local: Type.String() })),
  }),
);
export type SchedulePreviewResponse = Static<typeof SchedulePreviewResponse>;

/** A cron and zone not saved yet (a form being filled in): checked as a create checks them. */
export const ScheduleDraftPreviewRequest = named(
  'ScheduleDraftPreviewRequest',
  Type.Object(
    { cron_expression: Cron, timezone: Type.Optional(TimeZone), count: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 5 })) },
    { additionalProperties: false },
  ),
);
export type ScheduleDraftPreviewRequest = Static<typeof ScheduleDraftPreviewRequest>;
export const ScheduleDraftPreviewResponse = named(
  'ScheduleDraftPreviewResponse',
  Type.Object({
    cron_expression: Type.String(),
    timezone: Type.String(),
    fires: Type.Array(Type.Object({ at: Timestamp, local: Type.String() })),
  }),
);
export type ScheduleDraftPreviewResponse = Static<typeof ScheduleDraftPreviewResponse>;

export const ScheduleExecutionResponse = named(
  'ScheduleExecutionResponse',
  Type.Object({
    id: Type.String(),
    schedule_id: Type.String(),
    flow_id: Nullable(Type.String()),
    scheduled_for: Timestamp,
    status: StringEnum(['triggered', 'skipped', 'missed', 'failed'] as const),
    reason: Nullable(Type.String()),
    created_at: Timestamp,
  }),
);
export const ScheduleExecutionListQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
    offset: Type.Integer({ minimum: 0, maximum: 10_000_000, default: 0 }),
    status: Type.Optional(StringEnum(['triggered', 'skipped', 'missed', 'failed'] as const)),
    flow_id: Type.Optional(Id),
  },
  { additionalProperties: false },
);
export const ScheduleExecutionListResponse = named(
  'ScheduleExecutionListResponse',
  Type.Object({ executions: Type.Array(ScheduleExecutionResponse), total: Type.Integer() }),
);

const tag = 'Schedules';
export const scheduleEndpoints = {
  list: endpoint({ operationId: 'listSchedules', method: 'get', path: '/schedules', tag, summary: 'List schedules', permission: 'read', query: ScheduleListQuery, responses: { 200: ScheduleListResponse } }),
  create: endpoint({ operationId: 'createSchedule', method: 'post', path: '/schedules', tag, summary: 'Create a cron schedule', permission: 'configure', body: CreateScheduleRequest, responses: { 201: ScheduleResponse } }),
  get: endpoint({ operationId: 'getSchedule', method: 'get', path: '/schedules/:id', tag, summary: 'Get one schedule', permission: 'read', params: IdParams, responses: { 200: ScheduleResponse } }),
  update: endpoint({ operationId: 'updateSchedule', method: 'put', path: '/schedules/:id', tag, summary: 'Update a schedule; the flows using it follow', permission: 'configure', params: IdParams, body: UpdateScheduleRequest, responses: { 200: ScheduleResponse } }),
  remove: endpoint({ operationId: 'deleteSchedule', method: 'delete', path: '/schedules/:id', tag, summary: 'Delete a schedule; its flows keep running only on demand (schedule_id becomes null)', permission: 'configure', params: IdParams, responses: { 204: null } }),
  previewDraft: endpoint({ operationId: 'previewScheduleDraft', method: 'post', path: '/schedules/preview', tag, summary: 'The next N fire times of a cron and zone before they are saved (nothing is written)', permission: 'read', body: ScheduleDraftPreviewRequest, responses: { 200: ScheduleDraftPreviewResponse } }),
  preview: endpoint({ operationId: 'previewSchedule', method: 'get', path: '/schedules/:id/preview', tag, summary: 'The next N fire times, in UTC and in the schedule zone', permission: 'read', params: IdParams, query: SchedulePreviewQuery, responses: { 200: SchedulePreviewResponse } }),
  executions: endpoint({ operationId: 'listScheduleExecutions', method: 'get', path: '/schedules/:id/executions', tag, summary: 'Fires of a schedule: triggered, skipped, missed', permission: 'read', params: IdParams, query: ScheduleExecutionListQuery, responses: { 200: ScheduleExecutionListResponse } }),
};
