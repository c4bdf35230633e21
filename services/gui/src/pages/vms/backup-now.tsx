import { useState } from 'react';
import { useMutation } from '@tanstack/react-query';
import { backupEndpoints } from '@vaultflow/schemas';
import { call } from '../../api/client.js';
import { useInvalidate } from '../../api/queries.js';
import { ErrorMessage } from '../../components/feedback.js';
import { Field } from '../../forms/field.js';
import { RepositorySelect } from '../flows/resource-selects.js';

type Kind = 'auto' | 'full' | 'incremental';

/** Backs up one VM now, outside any flow (POST /backups); the restore points below follow it. */
export function BackupNow({ vmId, vmName }: { vmId: string; vmName: string }) {
  const [repo, setRepo] = useState('');
  const [kind, setKind] = useState<Kind>('auto');
  const invalidate = useInvalidate(backupEndpoints.list);
  const start = useMutation({
    mutationFn: () => call(backupEndpoints.create, { body: { vm_context_id: vmId, repository_id: Number(repo), backup_type: kind } }),
    onSuccess: () => invalidate(),
  });
  return (
    <section aria-label={`Back up ${vmName} now`} className="backup-now">
      <h4>Back up now</h4>
      <div className="form-row">
        <Field label="Into repository">
          {(p) => <RepositorySelect control={p} value={repo} onChange={setRepo} />}
        </Field>
        <Field label="Kind">
          {(p) => (
            <select {...p} value={kind} onChange={(e) => setKind(e.target.value as Kind)}>
              <option value="auto">Incremental when safe, else full</option>
              <option value="full">Full</option>
              <option value="incremental">Incremental</option>
            </select>
          )}
        </Field>
        <button type="button" className="btn btn-primary btn-small backup-now-go" disabled={!repo || start.isPending} onClick={() => start.mutate()}>
          {start.isPending ? 'Queuing…' : 'Back up now'}
        </button>
      </div>
      {start.isSuccess && <p className="alert alert-ok" role="status">Backup queued: it appears below with its progress.</p>}
      <ErrorMessage error={start.error} />
    </section>
  );
}
