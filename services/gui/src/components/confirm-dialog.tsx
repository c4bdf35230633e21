import { useState, type ReactNode } from 'react';
import { Modal } from './modal.js';
import { ErrorMessage } from './feedback.js';

/**
 * Asks before something destructive or far-reaching. `children` names exactly what will change;
 * `onConfirm` runs the change, and a failure stays in the dialog with what to do.
 */
export function ConfirmDialog({ title, confirmLabel, danger, onConfirm, onClose, children }: {
  title: string;
  confirmLabel: string;
  danger?: boolean;
  onConfirm: () => Promise<unknown>;
  onClose: () => void;
  children: ReactNode;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const confirm = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await onConfirm();
      onClose();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal
      title={title}
      onClose={onClose}
      footer={
        <>
          <button type="button" className="btn" onClick={onClose} data-autofocus>
            Cancel
          </button>
          <button type="button" className={`btn ${danger ? 'btn-danger' : 'btn-primary'}`} onClick={confirm} disabled={busy}>
            {busy ? 'Working…' : confirmLabel}
          </button>
        </>
      }
    >
      <div className="confirm-body">{children}</div>
      <ErrorMessage error={error} />
    </Modal>
  );
}
