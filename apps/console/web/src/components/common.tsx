import type { ReactNode } from 'react';
import { ApiError } from '../api/client';

/** A refused request as the service said it: message, code, field, request id. */
export function ProblemView({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  const p =
    error instanceof ApiError ? error.problem : { status: 0, detail: String((error as Error)?.message ?? error) };
  return (
    <div role="alert" className="problem">
      <strong>{title ?? (p.status === 403 ? 'Not allowed for this role' : 'The request failed')}</strong>
      <p>{p.detail}</p>
      <dl className="problem-meta">
        {p.status ? (
          <>
            <dt>status</dt>
            <dd>{p.status}</dd>
          </>
        ) : null}
        {'code' in p && p.code ? (
          <>
            <dt>code</dt>
            <dd>
              <code>{p.code}</code>
            </dd>
          </>
        ) : null}
        {'field' in p && p.field ? (
          <>
            <dt>field</dt>
            <dd>
              <code>{p.field}</code>
            </dd>
          </>
        ) : null}
        {'requestId' in p && p.requestId ? (
          <>
            <dt>request id</dt>
            <dd>
              <code>{p.requestId}</code>
            </dd>
          </>
        ) : null}
      </dl>
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" role="status">
      <span className="spinner" aria-hidden="true" /> loading {what}…
    </p>
  );
}

export function Section({
  title,
  children,
  actions,
  id,
}: {
  title: string;
  children: ReactNode;
  actions?: ReactNode;
  id?: string;
}) {
  const hid = id ? `${id}-title` : undefined;
  return (
    <section className="card" aria-labelledby={hid} id={id}>
      <header className="card-head">
        <h2 id={hid}>{title}</h2>
        {actions}
      </header>
      {children}
    </section>
  );
}

export function Json({ value, label }: { value: unknown; label: string }) {
  return (
    <pre className="json" aria-label={label} tabIndex={0}>
      {JSON.stringify(value, null, 2)}
    </pre>
  );
}

export function Badge({ tone, children }: { tone: 'ok' | 'warn' | 'bad' | 'info' | 'muted'; children: ReactNode }) {
  return <span className={`badge badge-${tone}`}>{children}</span>;
}

export function statusTone(status: string): 'ok' | 'warn' | 'bad' | 'info' | 'muted' {
  const s = status.toLowerCase();
  if (['available', 'accepted', 'online', 'ended', 'installed', 'uploaded', 'closed'].includes(s)) return 'ok';
  if (['faulted', 'rejected', 'failed', 'offline', 'open', 'expired', 'unavailable', 'incomplete'].includes(s))
    return 'bad';
  if (['charging', 'active', 'pending', 'dispatched', 'preparing', 'finishing'].includes(s)) return 'info';
  if (s.startsWith('suspended')) return 'warn';
  return 'muted';
}

export function NotAllowed({ what }: { what: string }) {
  return (
    <p className="muted" role="note">
      {what} needs another role: sign in with a key of that role.
    </p>
  );
}

/**
 * The problem of a refused write when it names this field (`body/<path>` as the services give it), else undefined:
 * the form shows it beside that input and the rest below the form.
 */
export function fieldProblem(error: unknown, ...fields: string[]): ApiError | undefined {
  if (!(error instanceof ApiError) || !error.field) return undefined;
  const f = error.field.replace(/^body\/?/, '');
  return fields.some((x) => f === x || f.startsWith(`${x}/`)) ? error : undefined;
}

/** A labelled input with the service's field error beside it (`aria-invalid`, `aria-describedby`). */
export function Field({
  label,
  id,
  error,
  hint,
  children,
}: {
  label: string;
  id: string;
  error?: ApiError;
  hint?: ReactNode;
  children: (aria: { id: string; 'aria-invalid'?: true; 'aria-describedby'?: string }) => ReactNode;
}) {
  const errId = `${id}-error`;
  const hintId = `${id}-hint`;
  const describedBy = [error ? errId : '', hint ? hintId : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children({ id, 'aria-invalid': error ? true : undefined, 'aria-describedby': describedBy })}
      {hint ? (
        <span id={hintId} className="muted small">
          {hint}
        </span>
      ) : null}
      {error && (
        <p id={errId} role="alert" className="field-error static" data-testid={`${id}-error`}>
          <code>{error.field?.replace(/^body\/?/, '')}</code> — {error.message}
          {error.code ? ` (${error.code})` : ''}
        </p>
      )}
    </div>
  );
}

/** A write in progress: a spinner and what is being done (role=status). */
export function Busy({ what }: { what: string }) {
  return (
    <p role="status" className="muted">
      <span className="spinner" aria-hidden="true" /> {what}…
    </p>
  );
}

/**
 * A wide table's own horizontal scroll box (the page itself never scrolls sideways), focusable so a keyboard can
 * scroll it (axe-core's scrollable-region-focusable).
 */
export function ScrollBox({ children }: { children: ReactNode }) {
  return (
    <div className="table-scroll" tabIndex={0}>
      {children}
    </div>
  );
}
