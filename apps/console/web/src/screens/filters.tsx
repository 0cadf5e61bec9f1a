import { useState, type FormEvent, type ReactNode } from 'react';

/** datetime-local (UTC) ⇄ RFC 3339 */
export const toInstant = (local: string): string | undefined =>
  local ? `${local.length === 16 ? `${local}:00` : local}Z` : undefined;

/** A filter form: the values apply on submit (one request per change of filters, not per keystroke). */
export function FilterForm<T extends Record<string, string>>({
  initial,
  onApply,
  children,
  label,
}: {
  initial: T;
  onApply: (v: T) => void;
  label: string;
  children: (v: T, set: (k: keyof T, value: string) => void) => ReactNode;
}) {
  const [v, setV] = useState<T>(initial);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onApply(v);
  };
  return (
    <form className="filters" onSubmit={submit} aria-label={label}>
      {children(v, (k, value) => setV((old) => ({ ...old, [k]: value })))}
      <button type="submit">Apply</button>
      <button
        type="button"
        onClick={() => {
          const cleared = Object.fromEntries(Object.keys(v).map((k) => [k, ''])) as T;
          setV(cleared);
          onApply(cleared);
        }}
      >
        Clear
      </button>
    </form>
  );
}
