import { useState, type FormEvent } from 'react';
import type { TSchema } from '@vaultflow/schemas';
import { checkBody, fieldErrorsOf, type FieldErrors } from './validation.js';

/**
 * The submit cycle every form shares: build the body, check it with the API's schema, send it, and
 * put the API's field problems next to their fields. Failures that name no field go to `formError`.
 * After the first attempt the problems follow the fields as they are edited: the schema's are
 * checked again on every change, and the API's stay until the body changes.
 */
export function useFormSubmit<B>(opts: {
  schema: TSchema;
  build: () => B;
  /** Rules beyond the schema (the API's own domain rules), checked together with it. */
  check?: (body: B) => FieldErrors | undefined;
  send: (body: B) => Promise<unknown>;
  onDone?: () => void;
}) {
  const [attempted, setAttempted] = useState(false);
  const [answer, setAnswer] = useState<{ body: string; errors: FieldErrors }>();
  const [formError, setFormError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const problemsOf = (body: B): FieldErrors => ({ ...opts.check?.(body), ...checkBody(opts.schema, body) });

  let errors: FieldErrors = {};
  let unchanged = true;
  if (attempted) {
    const body = opts.build();
    unchanged = !!answer && answer.body === JSON.stringify(body);
    errors = { ...(unchanged ? answer!.errors : {}), ...problemsOf(body) };
  }

  const onSubmit = async (ev?: FormEvent) => {
    ev?.preventDefault();
    setAttempted(true);
    setFormError(undefined);
    setAnswer(undefined);
    const body = opts.build();
    if (Object.keys(problemsOf(body)).length) return;
    setBusy(true);
    try {
      await opts.send(body);
      opts.onDone?.();
    } catch (err) {
      setAnswer({ body: JSON.stringify(body), errors: fieldErrorsOf(err) });
      setFormError(err);
    } finally {
      setBusy(false);
    }
  };
  // a failure is about the body that was sent: once it is edited, the message goes
  return { errors, formError: unchanged ? formError : undefined, busy, onSubmit };
}
