import { useSearchParams } from 'react-router';
import { nextSort, type SortState } from './data-table.js';

/**
 * Paging, sorting and filters of a list page kept in the URL (?search=&sort=&order=&limit=&offset=),
 * so a reload or a bookmark shows the same list.
 */
export function useListParams(defaultSort: string, defaultOrder: 'asc' | 'desc' = 'asc', defaultLimit = 25) {
  const [params, setParams] = useSearchParams();
  const get = (k: string) => params.get(k) ?? '';
  const update = (patch: Record<string, string | number | undefined>) =>
    setParams(
      (p) => {
        const n = new URLSearchParams(p);
        for (const [k, v] of Object.entries(patch)) {
          if (v === undefined || v === '') n.delete(k);
          else n.set(k, String(v));
        }
        return n;
      },
      { replace: true },
    );
  const sort: SortState = { key: params.get('sort') ?? defaultSort, order: (params.get('order') as 'asc' | 'desc' | null) ?? defaultOrder };
  return {
    get,
    update,
    /** Changes filters and goes back to the first page. */
    filter: (patch: Record<string, string | undefined>) => update({ ...patch, offset: undefined }),
    sort,
    onSort: (key: string) => {
      const s = nextSort(sort, key);
      update({ sort: s.key, order: s.order });
    },
    limit: Number(params.get('limit')) || defaultLimit,
    offset: Number(params.get('offset')) || 0,
    onPage: (p: { limit: number; offset: number }) => update({ limit: p.limit, offset: p.offset || undefined }),
  };
}
