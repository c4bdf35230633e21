import { useEffect, useState } from 'react';
import { useDebounced } from '../forms/use-debounced.js';

/** A labelled search input that reports its text once typing pauses. */
export function SearchField({ label, value, onChange, placeholder }: { label: string; value: string; onChange: (v: string) => void; placeholder?: string }) {
  const [text, setText] = useState(value);
  const debounced = useDebounced(text);
  useEffect(() => {
    if (debounced !== value) onChange(debounced);
  }, [debounced]); // eslint-disable-line react-hooks/exhaustive-deps
  return (
    <label className="filter filter-search">
      <span>Search</span>
      <input type="search" aria-label={label} placeholder={placeholder ?? 'Name'} value={text} onChange={(e) => setText(e.target.value)} />
    </label>
  );
}

/** A search field alone in a filter bar. */
export function SearchBox(props: { label: string; value: string; onChange: (v: string) => void; placeholder?: string }) {
  return (
    <div className="filters" role="search" aria-label={props.label}>
      <SearchField {...props} />
    </div>
  );
}
