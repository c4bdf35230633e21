import { Link } from 'react-router';
import type { Flow } from '../../api/types.js';
import { DataTable, type Column, type Selection, type SortState } from '../../components/data-table.js';
import { StatusBadge } from '../../components/status-badge.js';
import { Time } from '../../components/time.js';
import { describeCron, successRatio } from '../../format/format.js';
import { PATHS } from '../../routes.js';
import { FlowActions } from './flow-actions.js';
import { isActive } from './flow-api.js';
import { LiveRun } from './live-run.js';

interface Props {
  flows: Flow[] | undefined;
  loading: boolean;
  empty: React.ReactNode;
  sort: SortState;
  onSort: (key: string) => void;
  selection?: Selection<Flow>;
  /** Executions started from this page, by flow id, until they end. */
  launched: Record<string, string>;
  onStarted: (flowId: string, executionId: string) => void;
  onFinished: (flowId: string) => void;
}

/** The running execution of a row: one started here, or one the flow reports as running. */
function liveExecution(f: Flow, launched: Record<string, string>): string | undefined {
  return launched[f.id] ?? (isActive(f.status.last_execution_status) ? (f.status.last_execution_id ?? undefined) : undefined);
}

/** The protection flows table: every column of the flows page and each row's actions. */
export function FlowsTable({ flows, loading, empty, sort, onSort, selection, launched, onStarted, onFinished }: Props) {
  const columns: Column<Flow>[] = [
    {
      key: 'name',
      header: 'Name',
      sort: 'name',
      cell: (f) => (
        <>
          <Link to={PATHS.flow(f.id)} className="strong">
            {f.name}
          </Link>
          {f.description && <div className="muted small clamp">{f.description}</div>}
        </>
      ),
    },
    { key: 'type', header: 'Type', sort: 'flow_type', cell: (f) => <span className="cap">{f.flow_type}</span> },
    {
      key: 'target',
      header: 'Target',
      cell: (f) => (
        <>
          <span className="muted small">{f.target_type === 'vm' ? 'VM' : 'Group'}</span> {f.target_name ?? <span className="muted">{f.target_id} (missing)</span>}
        </>
      ),
    },
    {
      key: 'schedule',
      header: 'Schedule · next run',
      sort: 'next_execution_time',
      cell: (f) =>
        f.schedule_cron ? (
          <>
            <span title={`${f.schedule_cron} (${f.schedule_timezone})`}>{describeCron(f.schedule_cron) ?? f.schedule_cron}</span>
            <div className="small">
              Next: <Time value={f.enabled ? f.status.next_execution_time : null} empty={f.enabled ? 'none' : 'disabled'} />
            </div>
          </>
        ) : (
          <span className="muted">On demand</span>
        ),
    },
    { key: 'repository', header: 'Repository', cell: (f) => f.repository_name ?? (f.flow_type === 'replication' ? <span className="muted">{f.destination_type}</span> : '—') },
    { key: 'policy', header: 'Policy', cell: (f) => f.policy_name ?? <span className="muted">None</span> },
    {
      key: 'last',
      header: 'Last run',
      sort: 'last_execution_time',
      cell: (f) => {
        const live = liveExecution(f, launched);
        if (live) return <LiveRun key={live} flowId={f.id} executionId={live} onFinished={() => onFinished(f.id)} />;
        return f.status.last_execution_time ? (
          <>
            <StatusBadge status={f.status.last_execution_status} />
            <div className="small">
              <Time value={f.status.last_execution_time} />
            </div>
          </>
        ) : (
          <StatusBadge status="never" />
        );
      },
    },
    { key: 'ratio', header: 'Success', cell: (f) => successRatio(f.status.successful_executions, f.status.total_executions) },
    { key: 'actions', header: <span>Actions</span>, className: 'col-actions', cell: (f) => <FlowActions flow={f} running={!!liveExecution(f, launched)} onStarted={(e) => onStarted(f.id, e)} /> },
  ];
  return (
    <DataTable
      caption="Protection flows"
      columns={columns}
      rows={flows}
      rowKey={(f) => f.id}
      loading={loading}
      empty={empty}
      sort={sort}
      onSort={onSort}
      selection={selection}
      rowClassName={(f) => (f.enabled ? undefined : 'row-disabled')}
    />
  );
}
