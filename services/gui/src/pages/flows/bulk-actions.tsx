import { useState } from 'react';
import type { Flow } from '../../api/types.js';
import { useAuth } from '../../auth/auth-context.js';
import { ConfirmDialog } from '../../components/confirm-dialog.js';
import { useBulkFlows, type BulkAction } from './flow-api.js';

const VERB: Record<BulkAction, string> = { enable: 'Enable', disable: 'Disable', delete: 'Delete' };

/**
 * The bar shown while flows are selected: enable, disable or delete them all at once, after a
 * confirmation that names each flow and what happens to it.
 */
export function BulkActions({ selected, onDone }: { selected: Flow[]; onDone: () => void }) {
  const { can } = useAuth();
  const bulk = useBulkFlows();
  const [action, setAction] = useState<BulkAction>();
  if (!selected.length) return null;
  const n = selected.length;
  const plural = `${n} flow${n > 1 ? 's' : ''}`;
  const effect = (a: BulkAction, f: Flow) =>
    a === 'delete'
      ? `deleted with ${f.status.total_executions} execution${f.status.total_executions === 1 ? '' : 's'} of history`
      : a === 'enable'
        ? f.enabled ? 'stays enabled' : 'will run on its schedule again'
        : f.enabled ? 'stops running on its schedule (configuration kept)' : 'stays disabled';
  return (
    <div className="bulk-bar" role="region" aria-label="Selected flows">
      <span>
        <strong>{plural}</strong> selected
      </span>
      {can('operate') && (
        <>
          <button type="button" className="btn btn-small" onClick={() => setAction('enable')}>
            Enable selected
          </button>
          <button type="button" className="btn btn-small" onClick={() => setAction('disable')}>
            Disable selected
          </button>
        </>
      )}
      {can('configure') && (
        <button type="button" className="btn btn-small btn-danger-outline" onClick={() => setAction('delete')}>
          Delete selected
        </button>
      )}
      <button type="button" className="btn btn-small btn-link" onClick={onDone}>
        Clear selection
      </button>
      {action && (
        <ConfirmDialog
          title={`${VERB[action]} ${plural}`}
          confirmLabel={`${VERB[action]} ${plural}`}
          danger={action === 'delete'}
          onClose={() => setAction(undefined)}
          onConfirm={async () => {
            await bulk.mutateAsync({ action, ids: selected.map((f) => f.id) });
            onDone();
          }}
        >
          <p>These flows change together (all or none):</p>
          <ul className="confirm-list">
            {selected.map((f) => (
              <li key={f.id}>
                <strong>{f.name}</strong>: {effect(action, f)}
              </li>
            ))}
          </ul>
          {action === 'delete' && <p>Restore points they made stay in their repositories.</p>}
        </ConfirmDialog>
      )}
    </div>
  );
}
