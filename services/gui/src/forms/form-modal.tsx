import { useId, type ReactNode } from 'react';
import type { TSchema } from '@vaultflow/schemas';
import { ErrorMessage } from '../components/feedback.js';
import { Modal } from '../components/modal.js';
import { useFormSubmit } from './use-form-submit.js';
import type { FieldErrors } from './validation.js';

interface Props<B> {
  title: string;
  submitLabel: string;
  /** The API's request schema: the body is checked with it before it is sent. */
  schema: TSchema;
  build: () => B;
  check?: (body: B) => FieldErrors | undefined;
  send: (body: B) => Promise<unknown>;
  onClose: () => void;
  wide?: boolean;
  children: (errors: FieldErrors) => ReactNode;
}

/** A create/edit form in a modal: fields from `children`, problems beside them, Cancel and submit. */
export function FormModal<B>({ title, submitLabel, schema, build, check, send, onClose, wide, children }: Props<B>) {
  const id = useId();
  const form = useFormSubmit<B>({ schema, build, check, send, onDone: onClose });
  const fieldProblems = Object.keys(form.errors).length > 0;
  return (
    <Modal
      wide={wide}
      title={title}
      onClose={onClose}
      footer={
        <>
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" form={id} className="btn btn-primary" disabled={form.busy}>
            {form.busy ? 'Saving…' : submitLabel}
          </button>
        </>
      }
    >
      <form id={id} onSubmit={form.onSubmit} noValidate>
        <ErrorMessage error={form.formError} />
        {fieldProblems && !form.formError && (
          <p className="alert alert-error" role="alert">
            Some fields need attention: see the messages below them.
          </p>
        )}
        {children(form.errors)}
      </form>
    </Modal>
  );
}
