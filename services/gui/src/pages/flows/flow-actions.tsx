import { useState } from 'react';
import { useNavigate } from 'react-router';
import type { Flow } from '../../api/types.js';
import { useAuth } from '../../auth/auth-context.js';
import { ConfirmDialog } from '../../components/confirm-dialog.js';
import { Switch } from '../../components/switch.js';
import { ErrorMessage } from '../../components/feedback.js';
import { PATHS } from '../../routes.js';
import { FlowFormModal } from './flow-form-modal.js';
import { FlowTestDialog } from './flow-test-dialog.js';
import { useFlowMutations } from './flow-api.js';

/**
 * The buttons of one flow (a table row or the details page): Run now, Test, Edit, Delete and the
 * Enabled switch, each shown only to roles that may use it. `onStarted` gets the new execution.
 */
export function FlowActions({ flow, onStarted, running }: { flow: Flow; onStarted?: (executionId: string) => void; running?: boolean }) {
  const { can } = useAuth();
  const m = useFlowMutations();
  const navigate = useNavigate();
  const [dialog, setDialog] = useState<'test' | 'edit' | 'delete'>();
  const [error, setError] = useState<unknown>();
  const label = (verb: string) => `${verb} ${flow.name}`;

  const run = () => {
    setError(undefined);
    m.run.mutate(flow.id, { onSuccess: (e) => onStarted?.(e.id), onError: setError });
  };
  const toggle = (enabled: boolean) => {
    setError(undefined);
    m.setEnabled.mutate({ id: flow.id, enabled }, { onError: setError });
  };

  return (
    <div className="flow-actions">
      <div className="row-actions">
      {can('operate') ? (
        <Switch checked={flow.enabled} onChange={toggle} label="Enabled" busy={m.setEnabled.isPending} />
      ) : (
        <span className="muted small">{flow.enabled ? 'Enabled' : 'Disabled'}</span>
      )}
      {can('operate') && (
        <button type="button" className="btn btn-small btn-primary" onClick={run} disabled={m.run.isPending || running || !flow.enabled} title={flow.enabled ? label('Run now:') : 'Enable the flow to run it'} aria-label="Run now">
          Run now
        </button>
      )}
      <button type="button" className="btn btn-small" onClick={() => setDialog('test')} aria-label="Test" title={label('Dry run of')}>
        Test
      </button>
      {can('configure') && (
        <>
          <button type="button" className="btn btn-small" onClick={() => setDialog('edit')} aria-label="Edit" title={label('Edit')}>
            Edit
          </button>
          <button type="button" className="btn btn-small btn-danger-outline" onClick={() => setDialog('delete')} aria-label="Delete" title={label('Delete')}>
            Delete
          </button>
        </>
      )}
      </div>
      {error !== undefined && <ErrorMessage error={error} />}
      {dialog === 'test' && <FlowTestDialog flow={flow} onClose={() => setDialog(undefined)} />}
      {dialog === 'edit' && <FlowFormModal flow={flow} onClose={() => setDialog(undefined)} />}
      {dialog === 'delete' && (
        <ConfirmDialog
          title="Delete flow"
          confirmLabel="Delete flow"
          danger
          onClose={() => setDialog(undefined)}
          onConfirm={async () => {
            await m.remove.mutateAsync(flow.id);
            if (location.pathname !== PATHS.flows) navigate(PATHS.flows);
          }}
        >
          <p>
            Delete the flow <strong>{flow.name}</strong> and its execution history ({flow.status.total_executions} executions)? Restore points it made stay in their repository.
          </p>
        </ConfirmDialog>
      )}
    </div>
  );
}
