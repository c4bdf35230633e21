import { Link } from 'react-router';
import type { Flow } from '../../api/types.js';
import { StatusBadge } from '../../components/status-badge.js';
import { Time } from '../../components/time.js';
import { describeCron, successRatio } from '../../format/format.js';
import { PATHS } from '../../routes.js';

/** A flow's configuration as a description list. */
export function FlowConfig({ flow: f }: { flow: Flow }) {
  return (
    <section className="panel" aria-labelledby="flow-config-title">
      <h2 id="flow-config-title">Configuration</h2>
      <dl className="props">
        <dt>Type</dt>
        <dd className="cap">{f.flow_type}</dd>
        <dt>Target</dt>
        <dd>
          {f.target_type === 'vm' ? 'VM ' : 'Group '}
          <Link to={f.target_type === 'vm' ? `${PATHS.vms}?vm=${encodeURIComponent(f.target_id)}` : `${PATHS.groups}?group=${encodeURIComponent(f.target_id)}`}>{f.target_name ?? f.target_id}</Link>
        </dd>
        {f.flow_type === 'backup' ? (
          <>
            <dt>Repository</dt>
            <dd>{f.repository_name ?? '—'}</dd>
          </>
        ) : (
          <>
            <dt>Destination</dt>
            <dd>
              {f.destination_type} <code className="small">{f.destination_config ? JSON.stringify(f.destination_config) : ''}</code>
            </dd>
          </>
        )}
        <dt>Retention policy</dt>
        <dd>{f.policy_name ?? 'None'}</dd>
        <dt>Schedule</dt>
        <dd>
          {f.schedule_id ? (
            <>
              {f.schedule_name}: {describeCron(f.schedule_cron) ?? f.schedule_cron} <span className="muted small">({f.schedule_cron}, {f.schedule_timezone})</span>
            </>
          ) : (
            'None: runs on demand only'
          )}
        </dd>
        <dt>VM start window</dt>
        <dd>{f.vm_start_window_minutes} minutes</dd>
        <dt>Description</dt>
        <dd>{f.description || <span className="muted">—</span>}</dd>
        <dt>Created</dt>
        <dd>
          <Time value={f.created_at} /> by {f.created_by}
        </dd>
        <dt>Updated</dt>
        <dd>
          <Time value={f.updated_at} />
        </dd>
      </dl>
    </section>
  );
}

/** A flow's current status and statistics. */
export function FlowStatusPanel({ flow: f }: { flow: Flow }) {
  const s = f.status;
  return (
    <section className="panel" aria-labelledby="flow-status-title">
      <h2 id="flow-status-title">Status</h2>
      <dl className="props">
        <dt>State</dt>
        <dd>{f.enabled ? 'Enabled' : 'Disabled'}</dd>
        <dt>Last run</dt>
        <dd>
          {s.last_execution_time ? <StatusBadge status={s.last_execution_status} /> : <StatusBadge status="never" />} <Time value={s.last_execution_time} empty="" />
        </dd>
        <dt>Next run</dt>
        <dd>
          <Time value={f.enabled ? s.next_execution_time : null} empty={f.enabled ? 'not scheduled' : 'disabled'} />
        </dd>
        <dt>Executions</dt>
        <dd>
          {s.total_executions} in all: {s.successful_executions} succeeded, {s.failed_executions} failed
        </dd>
        <dt>Success ratio</dt>
        <dd>{successRatio(s.successful_executions, s.total_executions)}</dd>
      </dl>
    </section>
  );
}
