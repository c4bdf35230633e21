import { describe, expect, it, vi } from 'vitest';
import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { DataTable, nextSort, type Column } from './data-table.js';

type Row = { id: string; name: string };
const columns: Column<Row>[] = [{ key: 'name', header: 'Name', sort: 'name', cell: (r) => r.name }];

describe('data table', () => {
  it('shows skeleton rows while loading and the empty state when there is nothing', () => {
    const { rerender } = render(<DataTable caption="Things" columns={columns} rows={undefined} rowKey={(r) => r.id} loading empty={<p>Nothing yet</p>} />);
    expect(screen.getByRole('table').getAttribute('aria-busy')).toBe('true');
    expect(document.querySelectorAll('.skeleton').length).toBeGreaterThan(0);
    rerender(<DataTable caption="Things" columns={columns} rows={[]} rowKey={(r) => r.id} empty={<p>Nothing yet</p>} />);
    expect(screen.getByText('Nothing yet')).toBeTruthy();
  });

  it('sorts through its header buttons and tells screen readers the order', async () => {
    const onSort = vi.fn();
    render(<DataTable caption="Things" columns={columns} rows={[{ id: '1', name: 'a' }]} rowKey={(r) => r.id} sort={{ key: 'name', order: 'desc' }} onSort={onSort} empty={null} />);
    expect(screen.getByRole('columnheader', { name: /Name/ }).getAttribute('aria-sort')).toBe('descending');
    await userEvent.click(screen.getByRole('button', { name: /Name/ }));
    expect(onSort).toHaveBeenCalledWith('name');
    expect(nextSort({ key: 'name', order: 'asc' }, 'name')).toEqual({ key: 'name', order: 'desc' });
    expect(nextSort({ key: 'name', order: 'desc' }, 'created_at')).toEqual({ key: 'created_at', order: 'asc' });
  });

  it('selects rows one by one or all at once', async () => {
    const onChange = vi.fn();
    const rows = [{ id: '1', name: 'a' }, { id: '2', name: 'b' }];
    render(<DataTable caption="Things" columns={columns} rows={rows} rowKey={(r) => r.id} empty={null} selection={{ selected: new Set(['1']), onChange, label: (r) => `Select ${r.name}` }} />);
    expect((screen.getByRole('checkbox', { name: 'Select a' }) as HTMLInputElement).checked).toBe(true);
    await userEvent.click(screen.getByRole('checkbox', { name: 'Select b' }));
    expect([...onChange.mock.calls[0]![0]]).toEqual(['1', '2']);
    await userEvent.click(screen.getByRole('checkbox', { name: 'Select all rows' }));
    expect([...onChange.mock.calls[1]![0]]).toEqual(['1', '2']);
    expect(within(screen.getAllByRole('row')[1]!).getByText('a')).toBeTruthy();
  });
});
