import { Field } from './field.js';
import type { FieldErrors } from './validation.js';

/** The Name and Description fields most resources start with. */
export function NameFields({ name, description, onName, onDescription, errors }: { name: string; description: string; onName: (v: string) => void; onDescription: (v: string) => void; errors: FieldErrors }) {
  return (
    <>
      <Field label="Name" error={errors.name}>
        {(p) => <input {...p} value={name} onChange={(ev) => onName(ev.target.value)} data-autofocus />}
      </Field>
      <Field label="Description" error={errors.description}>
        {(p) => <input {...p} value={description} onChange={(ev) => onDescription(ev.target.value)} />}
      </Field>
    </>
  );
}

/** Title and submit label of a create/edit form: "Create policy" / "Edit policy: Gold" + "Save changes". */
export function formTitles(noun: string, existing?: string): { title: string; submitLabel: string } {
  return existing === undefined ? { title: `Create ${noun}`, submitLabel: `Create ${noun}` } : { title: `Edit ${noun}: ${existing}`, submitLabel: 'Save changes' };
}
