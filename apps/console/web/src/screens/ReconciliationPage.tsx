/**
 * Three-way reconciliation over the reporting service's API (finance): run it (session vs CDR vs PSP vs ledger, as
 * of the latest settlement report), the breaks queue (filters, the API's cursor pages), resolve a break with a note
 * (the API's field error beside the note), links from a break to its session's CDRs and payment, and the queue as
 * the service's CSV.
 */
import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { ApiError, apiGet, apiGetText, apiPost } from '../api/client';
import type { operations } from '../api/generated/reporting';
import type { Page, ReconciliationBreak, ReconciliationRun } from '../api/views';
import { useAuth } from '../auth/auth';
import { Badge, NotAllowed, ProblemView, Section } from '../components/common';
import { DataTable, columnsFor, useCursorPages } from '../components/DataTable';
import { dateTime } from '../format';
import { download } from './dashboard-data';
import { FilterForm, toInstant } from './filters';
import { SettlementReports } from './SettlementImport';

type BreaksQuery = NonNullable<operations['ReconciliationController_breaks']['parameters']['query']>;
type Reason = NonNullable<BreaksQuery['reason']>;
/** the reasons the service's OpenAPI lists (a reason it drops fails the console's build) */
const REASONS = [
  'AMOUNT_MISMATCH',
  'MISSING_CAPTURE',
  'DOUBLE_CAPTURE',
  'MISSING_CDR',
  'REFUND_WITHOUT_CREDIT',
  'ENERGY_MISMATCH',
  'UNSETTLED_AFTER_N_DAYS',
  'LEDGER_MISMATCH',
  'UNKNOWN_PSP_PAYMENT',
] as const satisfies readonly Reason[];

/**
 * The last run's result, kept in the tab's session storage: the service has no endpoint that reads runs back (a run
 * answers once, and its breaks are in the queue), so leaving the screen or reloading would lose it. Cleared at
 * sign-out with the rest of the console's session.
 */
const LAST_RUN = 'csms.console.reconciliation.lastRun';
interface LastRun {
  run: ReconciliationRun;
  /** when this tab got the answer (the browser's clock) */
  at: string;
}
function storedRun(): LastRun | undefined {
  try {
    const v = JSON.parse(sessionStorage.getItem(LAST_RUN) ?? 'null') as LastRun | null;
    return v && typeof v.at === 'string' && v.run && typeof v.run === 'object' ? v : undefined;
  } catch {
    return undefined;
  }
}

type Filters = {
  status: string;
  reason: string;
  sessionId: string;
  paymentRef: string;
  currency: string;
  /** detected from / before (UTC, datetime-local) */
  from: string;
  to: string;
};
const INITIAL: Filters = { status: 'open', reason: '', sessionId: '', paymentRef: '', currency: '', from: '', to: '' };

const query = (f: Filters): BreaksQuery => ({
  status: (f.status || 'open') as BreaksQuery['status'],
  reason: (f.reason || undefined) as Reason | undefined,
  sessionId: f.sessionId || undefined,
  paymentRef: f.paymentRef || undefined,
  currency: f.currency || undefined,
  from: toInstant(f.from),
  to: toInstant(f.to),
});

/** resolve one break: a note (required by the service), its field error beside the note */
function ResolveForm({ b, onDone }: { b: ReconciliationBreak; onDone: () => void }) {
  const [note, setNote] = useState('');
  const qc = useQueryClient();
  const resolve = useMutation({
    mutationFn: () =>
      apiPost<ReconciliationBreak, 'reporting', '/api/v1/reconciliation/breaks/{breakId}/resolve'>(
        'reporting',
        '/api/v1/reconciliation/breaks/{breakId}/resolve',
        { path: { breakId: b.breakId }, body: { note } },
      ),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: ['reporting', 'recon-breaks'] });
      onDone();
    },
  });
  const err = resolve.error instanceof ApiError ? resolve.error : undefined;
  const noteError = err?.field === 'body/note' || err?.field === 'body' ? err : undefined;
  const errId = `note-error-${b.breakId}`;
  return (
    <form
      className="resolve"
      aria-label={`Resolve break ${b.breakId}`}
      onSubmit={(e) => {
        e.preventDefault();
        resolve.mutate();
      }}
    >
      <label>
        Note{' '}
        <textarea
          value={note}
          rows={2}
          maxLength={2000}
          onChange={(e) => {
            setNote(e.target.value);
            if (resolve.error) resolve.reset();
          }}
          aria-invalid={!!noteError || undefined}
          aria-describedby={noteError ? errId : undefined}
          placeholder="what was found and done"
        />
      </label>
      {noteError && (
        <p id={errId} role="alert" className="field-error static" data-testid="note-error">
          <code>{noteError.field?.replace(/^body\/?/, '') || 'note'}</code> — {noteError.message}
          {noteError.code ? ` (${noteError.code})` : ''}
        </p>
      )}
      <button type="submit" disabled={resolve.isPending}>
        {resolve.isPending ? 'Resolving…' : 'Resolve'}
      </button>
      {err && !noteError && <ProblemView error={err} />}
    </form>
  );
}

const bc = columnsFor<ReconciliationBreak>();

/** what a break's expected and actual count: kWh, captures, or the currency's minor units (the service's figures) */
export function unitOf(b: Pick<ReconciliationBreak, 'reason' | 'currency'>): string {
  if (b.reason === 'ENERGY_MISMATCH') return 'kWh';
  if (b.reason === 'DOUBLE_CAPTURE') return 'captures';
  return b.currency ? `${b.currency} minor units` : '';
}

export function ReconciliationPage() {
  const auth = useAuth();
  const qc = useQueryClient();
  const [f, setF] = useState<Filters>(INITIAL);
  const [resolving, setResolving] = useState<string | undefined>();
  const [csv, setCsv] = useState<{ busy: boolean; error?: unknown; done?: string }>({ busy: false });
  const [last, setLast] = useState<LastRun | undefined>(storedRun);
  const pages = useCursorPages();
  const breaks = useQuery({
    queryKey: ['reporting', 'recon-breaks', f, pages.cursor],
    queryFn: ({ signal }) =>
      apiGet<Page<ReconciliationBreak>, 'reporting', '/api/v1/reconciliation/breaks'>(
        'reporting',
        '/api/v1/reconciliation/breaks',
        { query: { ...query(f), limit: '50', cursor: pages.cursor }, signal },
      ),
    enabled: auth.can('reconcile'),
  });
  const run = useMutation({
    mutationFn: () =>
      apiPost<ReconciliationRun, 'reporting', '/api/v1/reconciliation/runs'>(
        'reporting',
        '/api/v1/reconciliation/runs',
      ),
    onSuccess: (r) => {
      const kept = { run: r, at: new Date().toISOString() };
      sessionStorage.setItem(LAST_RUN, JSON.stringify(kept));
      setLast(kept);
      pages.reset();
      return qc.invalidateQueries({ queryKey: ['reporting', 'recon-breaks'] });
    },
  });
  if (!auth.can('reconcile')) return <NotAllowed what="Reconciliation (finance)" />;

  const downloadCsv = async () => {
    setCsv({ busy: true });
    try {
      const text = await apiGetText('reporting', '/api/v1/reconciliation/breaks', {
        query: { ...query(f), format: 'csv' },
      });
      download(`reconciliation-breaks-${f.status || 'open'}.csv`, text);
      const lines = text.split(/\r?\n/).filter(Boolean).length;
      setCsv({ busy: false, done: `${Math.max(0, lines - 1)} breaks downloaded` });
    } catch (e) {
      setCsv({ busy: false, error: e });
    }
  };

  const columns = bc.columns([
    bc.accessor('detectedAt', { header: 'Detected (as of)', cell: (x) => dateTime(x.getValue()) }),
    bc.accessor('reason', { header: 'Reason', cell: (x) => <code>{x.getValue()}</code> }),
    bc.accessor('status', {
      header: 'Status',
      cell: (x) => <Badge tone={x.getValue() === 'open' ? 'bad' : 'ok'}>{x.getValue()}</Badge>,
    }),
    bc.accessor((r) => r.sessionId ?? '', {
      id: 'session',
      header: 'Session',
      cell: (x) => {
        const id = x.getValue();
        if (!id) return '—';
        return (
          <span className="stack">
            <Link to="/sessions/$sessionId" params={{ sessionId: id }} className="mono small">
              {id}
            </Link>{' '}
            <Link to="/cdrs" search={{ sessionId: id }} aria-label={`CDRs of session ${id}`}>
              CDRs
            </Link>{' '}
            <Link
              to="/sessions/$sessionId/payment"
              params={{ sessionId: id }}
              aria-label={`Payment of session ${id}`}
              data-testid="break-payment-link"
            >
              payment
            </Link>
          </span>
        );
      },
    }),
    bc.accessor((r) => r.cdrId ?? '', {
      id: 'cdr',
      header: 'CDR',
      cell: (x) =>
        x.getValue() ? (
          <Link to="/cdrs/$cdrId" params={{ cdrId: x.getValue() }} className="mono small">
            {x.getValue()}
          </Link>
        ) : (
          '—'
        ),
    }),
    bc.accessor((r) => r.paymentRef ?? '', {
      id: 'paymentRef',
      header: 'PSP payment',
      cell: (x) => x.getValue() || '—',
    }),
    bc.accessor((r) => `${r.expected ?? '—'} / ${r.actual ?? '—'}`, {
      id: 'amounts',
      header: 'Expected / actual',
      cell: (x) => (
        <>
          {x.getValue()} <span className="muted small">{unitOf(x.row.original)}</span>
        </>
      ),
    }),
    bc.accessor('detail', { header: 'Detail' }),
    bc.accessor('breakId', { header: 'Break', cell: (x) => <span className="mono small">{x.getValue()}</span> }),
    bc.display({
      id: 'resolution',
      header: 'Resolution',
      cell: (x) => {
        const b = x.row.original;
        if (b.resolution)
          return (
            <span data-testid="resolution">
              {b.resolution.note} <span className="muted small">— {b.resolution.resolvedBy}</span>{' '}
              <span className="muted small">{dateTime(b.resolution.resolvedAt)}</span>
            </span>
          );
        if (b.clearance)
          return (
            <span data-testid="clearance">
              cleared: a later run no longer found it{' '}
              <span className="muted small">{dateTime(b.clearance.clearedAt)}</span>
            </span>
          );
        return resolving === b.breakId ? (
          <ResolveForm b={b} onDone={() => setResolving(undefined)} />
        ) : (
          <button type="button" onClick={() => setResolving(b.breakId)}>
            Resolve…
          </button>
        );
      },
    }),
  ]);

  const r = last?.run;
  const filtered = Boolean(f.reason || f.sessionId || f.paymentRef || f.currency || f.from || f.to);
  return (
    <>
      <h1>Reconciliation</h1>
      <p className="muted">
        Each session&apos;s meter evidence, its priced CDR, the PSP&apos;s record (captures, refunds, the settlement
        report) and the ledger, compared as of the end of the latest imported settlement report (without one: the newest
        payment event). A break found again by a later run is not added twice.
      </p>
      <Section title="Run" id="recon-run">
        <button type="button" onClick={() => run.mutate()} disabled={run.isPending} data-testid="run-reconciliation">
          {run.isPending ? 'Reconciling…' : 'Run reconciliation'}
        </button>
        {run.isPending && (
          <p role="status" className="muted">
            <span className="spinner" aria-hidden="true" /> the reporting service is reading every session, CDR, payment
            and ledger fact…
          </p>
        )}
        {r && (
          <>
            <p role="status" data-testid="run-result">
              {r.asOf === null
                ? 'Nothing to reconcile yet: no payment event has reached the reporting service.'
                : `As of ${dateTime(r.asOf)}: ${r.breaks} ${r.breaks === 1 ? 'break' : 'breaks'}, ${r.newBreaks} new.`}
            </p>
            <p className="muted small" data-testid="run-when">
              The last run from this tab, answered {dateTime(last.at)}.
            </p>
          </>
        )}
        {!r && !run.isPending && (
          <p className="muted" data-testid="run-none">
            No run from this tab yet. Run it after a settlement report is imported; the queue below keeps the breaks of
            every run.
          </p>
        )}
        <ProblemView error={run.error} />
      </Section>
      <Section
        title="Breaks"
        id="recon-breaks"
        actions={
          <button type="button" onClick={() => void downloadCsv()} disabled={csv.busy}>
            {csv.busy ? 'Downloading…' : 'Download CSV'}
          </button>
        }
      >
        <FilterForm
          label="Break filters"
          initial={INITIAL}
          onApply={(v) => {
            setF(v);
            pages.reset();
          }}
        >
          {(v, set) => (
            <>
              <label>
                Status{' '}
                <select value={v.status || 'open'} onChange={(e) => set('status', e.target.value)}>
                  <option value="open">open</option>
                  <option value="resolved">resolved</option>
                  <option value="cleared">cleared by a run</option>
                  <option value="all">all</option>
                </select>
              </label>
              <label>
                Reason{' '}
                <select value={v.reason} onChange={(e) => set('reason', e.target.value)}>
                  <option value="">any</option>
                  {REASONS.map((x) => (
                    <option key={x} value={x}>
                      {x}
                    </option>
                  ))}
                </select>
              </label>
              <label>
                Session <input value={v.sessionId} onChange={(e) => set('sessionId', e.target.value)} />
              </label>
              <label>
                PSP payment <input value={v.paymentRef} onChange={(e) => set('paymentRef', e.target.value)} />
              </label>
              <label>
                Currency{' '}
                <input
                  value={v.currency}
                  size={4}
                  placeholder="EUR"
                  onChange={(e) => set('currency', e.target.value.toUpperCase())}
                />
              </label>
              <label>
                Detected from (UTC){' '}
                <input type="datetime-local" value={v.from} onChange={(e) => set('from', e.target.value)} />
              </label>
              <label>
                before (UTC) <input type="datetime-local" value={v.to} onChange={(e) => set('to', e.target.value)} />
              </label>
            </>
          )}
        </FilterForm>
        {csv.busy && (
          <p role="status" className="muted">
            <span className="spinner" aria-hidden="true" /> the service is writing the CSV…
          </p>
        )}
        {csv.done && (
          <p role="status" className="muted" data-testid="breaks-csv-done">
            {csv.done}
          </p>
        )}
        <ProblemView error={csv.error} />
        <ProblemView error={breaks.error} />
        <DataTable
          caption="Breaks, oldest first by detection (the service's order)"
          columns={columns}
          rows={breaks.data?.items}
          rowId={(b) => b.breakId}
          pages={pages}
          nextCursor={breaks.data?.nextCursor}
          loading={breaks.isLoading}
          empty={
            <span data-testid="breaks-empty">
              {f.status === 'resolved'
                ? 'No resolved break matches: resolve an open one, or clear the filters.'
                : f.status === 'cleared'
                  ? 'No break was cleared by a later run: a break is cleared when a run no longer finds it (a late capture or settlement, say).'
                  : `No ${f.status === 'all' ? '' : 'open '}break${filtered ? ' matches these filters' : ''}: sessions, CDRs, the PSP and the ledger agree as far as the last run saw. Run reconciliation after a settlement report is imported (below, PSP settlement reports) to compare with the PSP's own record${filtered ? ', or clear the filters' : ''}.`}
            </span>
          }
          initialHidden={['breakId', 'detail']}
          testId="breaks-table"
        />
      </Section>
      {auth.can('importSettlements') && <SettlementReports />}
    </>
  );
}
