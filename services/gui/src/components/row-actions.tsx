import type { ReactNode } from 'react';
import type { Column } from './data-table.js';

/** The "Actions" column of a table: `cell` renders a row's buttons. */
export function actionsColumn<T>(cell: (row: T) => ReactNode): Column<T> {
  return { key: 'actions', header: 'Actions', className: 'col-actions', cell: (row) => <div className="row-actions">{cell(row)}</div> };
}

/** Edit and Delete (or `deleteLabel`) buttons of a row, named after the row for screen readers. */
export function EditDeleteButtons({ name, onEdit, onDelete, deleteLabel = 'Delete' }: { name: string; onEdit: () => void; onDelete?: () => void; deleteLabel?: string }) {
  return (
    <>
      <button type="button" className="btn btn-small" aria-label={`Edit ${name}`} onClick={onEdit}>
        Edit
      </button>
      {onDelete && (
        <button type="button" className="btn btn-small btn-danger-outline" aria-label={`${deleteLabel} ${name}`} onClick={onDelete}>
          {deleteLabel}
        </button>
      )}
    </>
  );
}
