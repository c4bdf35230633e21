import { useState } from 'react';
import { CreatePolicyRequest, UpdatePolicyRequest, policyEndpoints } from '@vaultflow/schemas';
import { call } from '../../api/client.js';
import { useInvalidate } from '../../api/queries.js';
import type { Policy } from '../../api/types.js';
import { Field } from '../../forms/field.js';
import { NameFields, formTitles } from '../../forms/name-fields.js';
import { FormModal } from '../../forms/form-modal.js';
import { CopyRulesEditor, type CopyRuleDraft } from './copy-rules-editor.js';

const KEEPS = [
  ['keep_last', 'Keep the last'],
  ['keep_daily', 'Daily points'],
  ['keep_weekly', 'Weekly points'],
  ['keep_monthly', 'Monthly points'],
  ['keep_yearly', 'Yearly points'],
] as const;
type Keep = (typeof KEEPS)[number][0];

/** Create a retention policy, or edit `policy`: how many restore points to keep, and copies elsewhere. */
export function PolicyFormModal({ policy, onClose }: { policy?: Policy; onClose: () => void }) {
  const [name, setName] = useState(policy?.name ?? '');
  const [description, setDescription] = useState(policy?.description ?? '');
  const [keep, setKeep] = useState<Record<Keep, string>>(() => Object.fromEntries(KEEPS.map(([k]) => [k, policy?.retention[k] ? String(policy.retention[k]) : ''])) as Record<Keep, string>);
  const [rules, setRules] = useState<CopyRuleDraft[]>(
    () => policy?.copy_rules.map((r) => ({ destination_repository_id: String(r.destination_repository_id), copy_mode: r.copy_mode, priority: String(r.priority), verify_after_copy: r.verify_after_copy, enabled: r.enabled })) ?? [],
  );
  const invalidate = useInvalidate(policyEndpoints.list, policyEndpoints.get);
  const build = () => ({
    name: name.trim(),
    description: description.trim() || null,
    retention: Object.fromEntries(KEEPS.map(([k]) => [k, keep[k].trim() ? Number(keep[k]) : null])),
    copy_rules: rules.map((r) => ({ destination_repository_id: Number(r.destination_repository_id) || 0, copy_mode: r.copy_mode, priority: Number(r.priority), verify_after_copy: r.verify_after_copy, enabled: r.enabled })),
  });
  return (
    <FormModal
      wide
      {...formTitles('policy', policy?.name)}
      schema={policy ? UpdatePolicyRequest : CreatePolicyRequest}
      build={build}
      send={async (body) => {
        if (policy) await call(policyEndpoints.update, { params: { id: policy.id }, body });
        else await call(policyEndpoints.create, { body });
        await invalidate();
      }}
      onClose={onClose}
    >
      {(e) => (
        <>
          <NameFields name={name} description={description} onName={setName} onDescription={setDescription} errors={e} />
          <fieldset className="fieldset">
            <legend>Retention (leave empty for no limit of that kind)</legend>
            <div className="form-row">
              {KEEPS.map(([k, label]) => (
                <Field key={k} label={label} error={e[`retention.${k}`]}>
                  {(p) => <input {...p} type="number" min={1} value={keep[k]} onChange={(ev) => setKeep((x) => ({ ...x, [k]: ev.target.value }))} />}
                </Field>
              ))}
            </div>
          </fieldset>
          <CopyRulesEditor rules={rules} onChange={setRules} errors={e} />
        </>
      )}
    </FormModal>
  );
}
