import type { BackupRecord, GroupRecord, MemberRecord, PolicyRecord, RepositoryRecord, ScheduleExecutionRecord, ScheduleRecord, TokenRecord, UserRecord, VcenterRecord, VmDiskRecord, VmRecord } from '@vaultflow/db';
import type { GroupResponse, PolicyResponse, RepositoryResponse, ScheduleResponse, TokenResponse, UserResponse, VcenterResponse, VmResponse, VmSummary } from '@vaultflow/schemas';
import { iso, isoNN } from './time.js';

export function toScheduleResponse(s: ScheduleRecord, nextFire: Date | null): ScheduleResponse {
  return {
    id: s.id,
    name: s.name,
    description: s.description,
    cron_expression: s.cron_expression,
    timezone: s.timezone,
    enabled: s.enabled,
    misfire_grace_seconds: s.misfire_grace_seconds,
    next_fire_time: iso(nextFire),
    flow_count: s.flow_count,
    created_at: isoNN(s.created_at),
    updated_at: isoNN(s.updated_at),
    created_by: s.created_by,
  };
}

export function toScheduleExecution(e: ScheduleExecutionRecord) {
  return { ...e, scheduled_for: isoNN(e.scheduled_for), created_at: isoNN(e.created_at) };
}

export function toRepositoryResponse(r: RepositoryRecord): RepositoryResponse {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    repository_type: r.repository_type,
    config: r.config,
    enabled: r.enabled,
    immutable: { enabled: r.immutable_enabled, retention_days: r.immutable_retention_days },
    capacity: { total_bytes: r.total_bytes, used_bytes: r.used_bytes, available_bytes: r.available_bytes, checked_at: iso(r.capacity_checked_at) },
    flow_count: r.flow_count,
    backup_count: r.backup_count,
    created_at: isoNN(r.created_at),
    updated_at: isoNN(r.updated_at),
    created_by: r.created_by,
  };
}

export function toPolicyResponse(p: PolicyRecord): PolicyResponse {
  return {
    id: p.id,
    name: p.name,
    description: p.description,
    retention: { keep_last: p.keep_last, keep_daily: p.keep_daily, keep_weekly: p.keep_weekly, keep_monthly: p.keep_monthly, keep_yearly: p.keep_yearly },
    copy_rules: p.copy_rules,
    flow_count: p.flow_count,
    created_at: isoNN(p.created_at),
    updated_at: isoNN(p.updated_at),
    created_by: p.created_by,
  };
}

export function toGroupResponse(g: GroupRecord): GroupResponse {
  return { ...g, created_at: isoNN(g.created_at), updated_at: isoNN(g.updated_at) };
}

export function toMember(m: MemberRecord) {
  return { vm_context_id: m.vm_context_id, vm_name: m.vm_name, power_state: m.power_state, inventory_status: m.inventory_status, enabled: m.enabled, added_at: isoNN(m.added_at), added_by: m.added_by };
}

export function toVmSummary(v: VmRecord): VmSummary {
  return {
    ...v,
    last_seen_at: iso(v.last_seen_at),
    last_backup_at: iso(v.last_backup_at),
    created_at: isoNN(v.created_at),
    updated_at: isoNN(v.updated_at),
  };
}

export function toVmResponse(v: VmRecord, disks: VmDiskRecord[], groups: VmResponse['groups'], flows: VmResponse['flows']): VmResponse {
  return { ...toVmSummary(v), disks, groups, flows };
}

export function toVcenterResponse(c: VcenterRecord): VcenterResponse {
  return {
    id: c.id,
    name: c.name,
    host: c.host,
    port: c.port,
    protocol: c.protocol,
    username: c.username,
    tls_thumbprint: c.tls_thumbprint,
    insecure: c.insecure,
    enabled: c.enabled,
    has_password: c.password_encrypted.length > 0,
    vm_count: c.vm_count,
    last_discovery_at: iso(c.last_discovery_at),
    last_error: c.last_error,
    created_at: isoNN(c.created_at),
    updated_at: isoNN(c.updated_at),
    created_by: c.created_by,
  };
}

/** Field by field: backup_jobs holds internal columns (manifest_ref) that are no part of the API. */
export function toBackupSummary(b: BackupRecord) {
  return {
    id: b.id,
    vm_context_id: b.vm_context_id,
    vm_name: b.vm_name,
    repository_id: b.repository_id,
    repository_name: b.repository_name,
    policy_id: b.policy_id,
    flow_execution_id: b.flow_execution_id,
    backup_type: b.backup_type,
    requested_type: b.requested_type,
    status: b.status,
    consistency: b.consistency,
    bytes_total: b.bytes_total,
    bytes_transferred: b.bytes_transferred,
    bytes_stored: b.bytes_stored,
    error_message: b.error_message,
    created_by: b.created_by,
    locked_until: iso(b.locked_until),
    started_at: iso(b.started_at),
    completed_at: iso(b.completed_at),
    created_at: isoNN(b.created_at),
  };
}

export function toUserResponse(u: UserRecord): UserResponse {
  return {
    id: u.id,
    username: u.username,
    role: u.role,
    enabled: u.enabled,
    last_login_at: iso(u.last_login_at),
    created_at: isoNN(u.created_at),
    updated_at: isoNN(u.updated_at),
    created_by: u.created_by,
  };
}

export function toTokenResponse(t: TokenRecord): TokenResponse {
  return {
    id: t.id,
    name: t.name,
    user_id: t.user_id,
    username: t.username,
    token_prefix: t.token_prefix,
    expires_at: iso(t.expires_at),
    last_used_at: iso(t.last_used_at),
    created_at: isoNN(t.created_at),
  };
}
