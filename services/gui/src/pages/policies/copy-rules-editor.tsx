import type { FieldErrors } from '../../forms/validation.js';
import { Field } from '../../forms/field.js';
import { RepositorySelect } from '../flows/resource-selects.js';

export interface CopyRuleDraft {
  destination_repository_id: string;
  copy_mode: 'immediate' | 'scheduled';
  priority: string;
  verify_after_copy: boolean;
  enabled: boolean;
}

export const newCopyRule = (): CopyRuleDraft => ({ destination_repository_id: '', copy_mode: 'immediate', priority: '50', verify_after_copy: true, enabled: true });

/** The copy rules of a policy: each copies restore points to another repository. */
export function CopyRulesEditor({ rules, onChange, errors }: { rules: CopyRuleDraft[]; onChange: (r: CopyRuleDraft[]) => void; errors: FieldErrors }) {
  const set = (i: number, patch: Partial<CopyRuleDraft>) => onChange(rules.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  return (
    <fieldset className="fieldset">
      <legend>Copy rules</legend>
      {rules.length === 0 && <p className="muted small">No copies: restore points stay in the flow's repository only.</p>}
      {rules.map((r, i) => (
        <div key={i} className="form-row copy-rule" role="group" aria-label={`Copy rule ${i + 1}`}>
          <Field label={`Copy ${i + 1} to repository`} error={errors[`copy_rules.${i}.destination_repository_id`]}>
            {(p) => <RepositorySelect control={p} value={r.destination_repository_id} onChange={(v) => set(i, { destination_repository_id: v })} />}
          </Field>
          <Field label="Mode" error={errors[`copy_rules.${i}.copy_mode`]}>
            {(p) => (
              <select {...p} value={r.copy_mode} onChange={(e) => set(i, { copy_mode: e.target.value as CopyRuleDraft['copy_mode'] })}>
                <option value="immediate">Right after the backup</option>
                <option value="scheduled">On the copy schedule</option>
              </select>
            )}
          </Field>
          <Field label="Priority" error={errors[`copy_rules.${i}.priority`]}>
            {(p) => <input {...p} type="number" min={0} max={100} value={r.priority} onChange={(e) => set(i, { priority: e.target.value })} />}
          </Field>
          <label className="checkbox">
            <input type="checkbox" checked={r.verify_after_copy} onChange={(e) => set(i, { verify_after_copy: e.target.checked })} /> Verify
          </label>
          <label className="checkbox">
            <input type="checkbox" checked={r.enabled} onChange={(e) => set(i, { enabled: e.target.checked })} /> Enabled
          </label>
          <button type="button" className="btn btn-small btn-danger-outline" aria-label={`Remove copy rule ${i + 1}`} onClick={() => onChange(rules.filter((_, j) => j !== i))}>
            Remove
          </button>
        </div>
      ))}
      <button type="button" className="btn btn-small" onClick={() => onChange([...rules, newCopyRule()])} disabled={rules.length >= 16}>
        Add copy rule
      </button>
    </fieldset>
  );
}
