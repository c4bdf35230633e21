import type { ReactNode } from 'react';
import { TableSkeleton } from './feedback.js';

export interface Column<T> {
  key: string;
  header: ReactNode;
  /** The API's sort value for this column; the header becomes a sort button. */
  sort?: string;
  cell: (row: T) => ReactNode;
  className?: string;
}

export interface SortState {
  key: string;
  order: 'asc' | 'desc';
}

export interface Selection<T> {
  selected: ReadonlySet<string>;
  onChange: (next: Set<string>) => void;
  /** Accessible name of a row's checkbox, e.g. "Select Nightly DB". */
  label: (row: T) => string;
}

interface Props<T> {
  caption: string;
  columns: Column<T>[];
  rows: T[] | undefined;
  rowKey: (row: T) => string;
  loading?: boolean;
  empty: ReactNode;
  sort?: SortState;
  onSort?: (key: string) => void;
  selection?: Selection<T>;
  rowClassName?: (row: T) => string | undefined;
  /** Rendered below a row (full width), e.g. its details. */
  expanded?: (row: T) => ReactNode;
}

/** The one table of the console: sortable headers, optional row selection, skeleton and empty state. */
export function DataTable<T>({ caption, columns, rows, rowKey, loading, empty, sort, onSort, selection, rowClassName, expanded }: Props<T>) {
  const span = columns.length + (selection ? 1 : 0);
  const ids = rows?.map(rowKey) ?? [];
  const allSelected = !!selection && ids.length > 0 && ids.every((id) => selection.selected.has(id));
  const toggleAll = () => selection?.onChange(allSelected ? new Set() : new Set(ids));
  const toggle = (id: string) => {
    if (!selection) return;
    const next = new Set(selection.selected);
    if (!next.delete(id)) next.add(id);
    selection.onChange(next);
  };
  return (
    <div className="table-wrap">
      <table className="table" aria-busy={loading || undefined}>
        <caption className="sr-only">{caption}</caption>
        <thead>
          <tr>
            {selection && (
              <th className="col-select">
                <input type="checkbox" aria-label="Select all rows" checked={allSelected} onChange={toggleAll} disabled={!ids.length} />
              </th>
            )}
            {columns.map((c) => (
              <th key={c.key} className={c.className} aria-sort={c.sort && sort?.key === c.sort ? (sort.order === 'asc' ? 'ascending' : 'descending') : undefined}>
                {c.sort && onSort ? (
                  <button type="button" className="sort-button" onClick={() => onSort(c.sort!)}>
                    {c.header}
                    <span aria-hidden="true" className="sort-mark">
                      {sort?.key === c.sort ? (sort.order === 'asc' ? '▲' : '▼') : '↕'}
                    </span>
                  </button>
                ) : (
                  c.header
                )}
              </th>
            ))}
          </tr>
        </thead>
        {loading && !rows ? (
          <TableSkeleton columns={span} />
        ) : (
          <tbody>
            {rows && rows.length === 0 && (
              <tr>
                <td colSpan={span}>{empty}</td>
              </tr>
            )}
            {rows?.map((row) => {
              const id = rowKey(row);
              const extra = expanded?.(row);
              return [
                <tr key={id} className={rowClassName?.(row)} aria-selected={selection ? selection.selected.has(id) : undefined}>
                  {selection && (
                    <td className="col-select">
                      <input type="checkbox" aria-label={selection.label(row)} checked={selection.selected.has(id)} onChange={() => toggle(id)} />
                    </td>
                  )}
                  {columns.map((c) => (
                    <td key={c.key} className={c.className}>
                      {c.cell(row)}
                    </td>
                  ))}
                </tr>,
                extra ? (
                  <tr key={`${id}-more`} className="row-expanded">
                    <td colSpan={span}>{extra}</td>
                  </tr>
                ) : null,
              ];
            })}
          </tbody>
        )}
      </table>
    </div>
  );
}

/** Next sort state when a header is clicked: same column flips the order, a new one starts ascending. */
export function nextSort(current: SortState, key: string): SortState {
  return current.key === key ? { key, order: current.order === 'asc' ? 'desc' : 'asc' } : { key, order: 'asc' };
}
