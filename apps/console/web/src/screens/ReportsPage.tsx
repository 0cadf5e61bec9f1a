/**
 * The reporting service's exports as CSV downloads: revenue (per day or month, by the dimensions chosen), every CDR
 * of a range, payments per day and currency, EVSE utilisation and uptime (NEVI). Each button fetches the service's own CSV (`format=csv`, with the
 * key) and hands it to the browser as a file; a refusal shows the service's problem with its field.
 */
import { useState, type ReactNode } from 'react';
import { stringify } from 'csv-stringify/browser/esm/sync';
import { apiGet, apiGetText } from '../api/client';
import { useAuth } from '../auth/auth';
import { NotAllowed, ProblemView, Section } from '../components/common';
import { addDays } from './DashboardPage';
import { download } from './dashboard-data';
import { everyStationPage, type StationPage } from './station-pages';

const today = () => new Date().toISOString().slice(0, 10);
const DIMENSIONS = ['site', 'station', 'evse', 'tariff', 'account'] as const;

/**
 * Every station's rows of a report paged by station (utilisation, uptime): the JSON pages followed to the end, then
 * written as the service writes its CSV (csv-stringify with the reporting service's options: CRLF, a header, no
 * BOM, booleans as true/false), so one page's download is byte for byte the service's own `format=csv`.
 */
async function everyStationCsv(
  fetchPage: (after: string | undefined) => Promise<StationPage>,
  progress: (text: string) => void,
): Promise<string> {
  const all = await everyStationPage(fetchPage, (pages, rows, last) =>
    progress(`page ${pages}: ${rows} rows so far${last ? `, up to station ${last}` : ''}`),
  );
  return stringify(
    all.rows.map((r) => all.columns.map((c) => r[c])),
    {
      header: true,
      columns: all.columns,
      record_delimiter: 'windows',
      bom: false,
      cast: { boolean: (v: boolean) => (v ? 'true' : 'false') },
    },
  );
}

/** stations per request (the service's page, 1–100) */
function PageSize({ value, set, id }: { value: string; set: (v: string) => void; id: string }) {
  return (
    <label>
      Stations per request{' '}
      <input
        id={id}
        type="number"
        min={1}
        max={100}
        value={value}
        onChange={(e) => set(e.target.value)}
        aria-describedby={`${id}-hint`}
      />
      <span id={`${id}-hint`} className="muted small">
        every station is downloaded, page after page
      </span>
    </label>
  );
}

/** one export: its form, a download button with progress, and the problem when refused */
function Export({
  title,
  id,
  children,
  fetchCsv,
  filename,
}: {
  title: string;
  id: string;
  children: ReactNode;
  fetchCsv: (progress: (text: string) => void) => Promise<string>;
  filename: () => string;
}) {
  const [state, setState] = useState<{ busy: boolean; error?: unknown; done?: string; progress?: string }>({
    busy: false,
  });
  const run = async () => {
    setState({ busy: true });
    try {
      const text = await fetchCsv((p) => setState({ busy: true, progress: p }));
      download(filename(), text);
      const lines = text.split(/\r?\n/).filter(Boolean).length;
      setState({ busy: false, done: `${Math.max(0, lines - 1)} rows downloaded` });
    } catch (e) {
      setState({ busy: false, error: e });
    }
  };
  return (
    <Section title={title} id={id}>
      <form
        className="filters"
        aria-label={`${title} export`}
        onSubmit={(e) => {
          e.preventDefault();
          void run();
        }}
      >
        {children}
        <button type="submit" disabled={state.busy}>
          {state.busy ? 'Downloading…' : 'Download CSV'}
        </button>
      </form>
      {state.busy && (
        <p role="status" className="muted">
          <span className="spinner" aria-hidden="true" /> {state.progress ?? 'the service is writing the CSV…'}
        </p>
      )}
      {state.done && (
        <p role="status" className="muted" data-testid={`${id}-done`}>
          {state.done}
        </p>
      )}
      <ProblemView error={state.error} />
    </Section>
  );
}

export function ReportsPage() {
  const auth = useAuth();
  const [rev, setRev] = useState({
    from: addDays(today(), -30),
    to: addDays(today(), 2),
    granularity: 'day' as 'day' | 'month',
    groupBy: ['site'] as string[],
  });
  const [cdrs, setCdrs] = useState({ from: addDays(today(), -30), to: addDays(today(), 2) });
  const [pay, setPay] = useState({ from: addDays(today(), -30), to: addDays(today(), 1), currency: '' });
  const [util, setUtil] = useState({ from: addDays(today(), -7), to: addDays(today(), 1), limit: '100' });
  const [uptime, setUptime] = useState({ period: today().slice(0, 7), limit: '100' });
  if (!auth.can('viewUtilisation') && !auth.can('viewRevenue')) return <NotAllowed what="Reports" />;
  return (
    <>
      <h1>Reports and exports</h1>
      <p className="muted">
        Each export is the reporting service&apos;s own CSV (RFC 4180, UTF-8, a header row, decimals as exact text,
        columns in a fixed order). Days are each site&apos;s civil days; a closed period never changes.
      </p>
      {auth.can('viewRevenue') ? (
        <>
          <Export
            title="Revenue"
            id="export-revenue"
            filename={() => `revenue-${rev.from}-${rev.to}.csv`}
            fetchCsv={() =>
              apiGetText('reporting', '/api/v1/reports/revenue', {
                query: {
                  from: rev.from,
                  to: rev.to,
                  granularity: rev.granularity,
                  groupBy: rev.groupBy.join(',') || undefined,
                  format: 'csv',
                },
              })
            }
          >
            <label>
              From <input type="date" value={rev.from} onChange={(e) => setRev({ ...rev, from: e.target.value })} />
            </label>
            <label>
              to (exclusive){' '}
              <input type="date" value={rev.to} onChange={(e) => setRev({ ...rev, to: e.target.value })} />
            </label>
            <label>
              Per{' '}
              <select
                value={rev.granularity}
                onChange={(e) => setRev({ ...rev, granularity: e.target.value as 'day' | 'month' })}
              >
                <option value="day">day</option>
                <option value="month">month</option>
              </select>
            </label>
            <fieldset className="inline">
              <legend>By</legend>
              {DIMENSIONS.map((d) => (
                <label key={d}>
                  <input
                    type="checkbox"
                    checked={rev.groupBy.includes(d)}
                    onChange={(e) =>
                      setRev({
                        ...rev,
                        groupBy: e.target.checked ? [...rev.groupBy, d] : rev.groupBy.filter((x) => x !== d),
                      })
                    }
                  />{' '}
                  {d}
                </label>
              ))}
            </fieldset>
          </Export>
          <Export
            title="CDRs"
            id="export-cdrs"
            filename={() => `cdrs-${cdrs.from}-${cdrs.to}.csv`}
            fetchCsv={() =>
              apiGetText('reporting', '/api/v1/reports/cdrs', {
                query: { from: `${cdrs.from}T00:00:00Z`, to: `${cdrs.to}T00:00:00Z`, format: 'csv' },
              })
            }
          >
            <label>
              Issued from (UTC){' '}
              <input type="date" value={cdrs.from} onChange={(e) => setCdrs({ ...cdrs, from: e.target.value })} />
            </label>
            <label>
              to (exclusive){' '}
              <input type="date" value={cdrs.to} onChange={(e) => setCdrs({ ...cdrs, to: e.target.value })} />
            </label>
          </Export>
          {auth.can('viewPaymentsReport') && (
            <Export
              title="Payments"
              id="export-payments"
              filename={() => `payments-${pay.from}-${pay.to}.csv`}
              fetchCsv={() =>
                apiGetText('reporting', '/api/v1/reports/payments', {
                  query: { from: pay.from, to: pay.to, currency: pay.currency || undefined, format: 'csv' },
                })
              }
            >
              <label>
                From (UTC){' '}
                <input type="date" value={pay.from} onChange={(e) => setPay({ ...pay, from: e.target.value })} />
              </label>
              <label>
                to (exclusive){' '}
                <input type="date" value={pay.to} onChange={(e) => setPay({ ...pay, to: e.target.value })} />
              </label>
              <label>
                Currency{' '}
                <input
                  value={pay.currency}
                  size={4}
                  placeholder="all"
                  onChange={(e) => setPay({ ...pay, currency: e.target.value.toUpperCase() })}
                />
              </label>
              <span className="muted small">
                per UTC day and currency: captured, refunded, receivables, PSP fees, payouts (at most 366 days)
              </span>
            </Export>
          )}
        </>
      ) : (
        <NotAllowed what="Revenue, CDR and payments exports (finance)" />
      )}
      {auth.can('viewUtilisation') && (
        <>
          <Export
            title="Utilisation per EVSE and day"
            id="export-utilisation"
            filename={() => `utilisation-${util.from}-${util.to}.csv`}
            fetchCsv={(progress) =>
              everyStationCsv(
                (after) =>
                  apiGet<StationPage, 'reporting', '/api/v1/reports/utilisation'>(
                    'reporting',
                    '/api/v1/reports/utilisation',
                    { query: { from: util.from, to: util.to, after, limit: util.limit || undefined, format: 'json' } },
                  ),
                progress,
              )
            }
          >
            <label>
              From <input type="date" value={util.from} onChange={(e) => setUtil({ ...util, from: e.target.value })} />
            </label>
            <label>
              to (exclusive){' '}
              <input type="date" value={util.to} onChange={(e) => setUtil({ ...util, to: e.target.value })} />
            </label>
            <PageSize id="utilisation-limit" value={util.limit} set={(limit) => setUtil({ ...util, limit })} />
          </Export>
          <Export
            title="Uptime (NEVI) per EVSE"
            id="export-uptime"
            filename={() => `uptime-${uptime.period}.csv`}
            fetchCsv={(progress) =>
              everyStationCsv(
                (after) =>
                  apiGet<StationPage, 'reporting', '/api/v1/reports/uptime'>('reporting', '/api/v1/reports/uptime', {
                    query: { period: uptime.period, after, limit: uptime.limit || undefined, format: 'json' },
                  }),
                progress,
              )
            }
          >
            <label>
              Month{' '}
              <input
                type="month"
                value={uptime.period}
                onChange={(e) => setUptime({ ...uptime, period: e.target.value })}
              />
            </label>
            <PageSize id="uptime-limit" value={uptime.limit} set={(limit) => setUptime({ ...uptime, limit })} />
          </Export>
        </>
      )}
    </>
  );
}
