import type { ReactNode } from 'react';
import { ApiError, whatToDo } from '../api/api-error.js';

/** A failure the user must see: what happened (the API's message) and what to do about it. */
export function ErrorMessage({ error, onRetry, title }: { error: unknown; onRetry?: () => void; title?: string }) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  const rid = error instanceof ApiError && error.requestId ? error.requestId : undefined;
  return (
    <div className="alert alert-error" role="alert">
      {title && <strong>{title}: </strong>}
      <span>{message}.</span> <span>{whatToDo(error)}</span>
      {rid && <span className="muted small"> (request {rid})</span>}
      {onRetry && (
        <button type="button" className="btn btn-small" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

/** Placeholder bars while a table's data loads. */
export function TableSkeleton({ columns, rows = 5 }: { columns: number; rows?: number }) {
  return (
    <tbody aria-hidden="true">
      {Array.from({ length: rows }, (_, r) => (
        <tr key={r} className="skeleton-row">
          {Array.from({ length: columns }, (_, c) => (
            <td key={c}>
              <span className="skeleton" />
            </td>
          ))}
        </tr>
      ))}
    </tbody>
  );
}

/** Placeholder blocks while a panel loads. */
export function BlockSkeleton({ lines = 3 }: { lines?: number }) {
  return (
    <div className="block-skeleton" aria-busy="true" aria-label="Loading">
      {Array.from({ length: lines }, (_, i) => (
        <span key={i} className="skeleton" />
      ))}
    </div>
  );
}

/** What to show when a list has nothing yet: what it is for and what to create next. */
export function EmptyState({ title, children, action }: { title: string; children?: ReactNode; action?: ReactNode }) {
  return (
    <div className="empty">
      <p className="empty-title">{title}</p>
      {children && <p className="muted">{children}</p>}
      {action}
    </div>
  );
}
