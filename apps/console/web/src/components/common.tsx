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
