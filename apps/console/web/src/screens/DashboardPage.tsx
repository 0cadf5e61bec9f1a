import { useMemo, useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { apiGet } from '../api/client';
import type { Alarm, Completeness, MonitoredStation, Page } from '../api/views';
import { useAuth } from '../auth/auth';
import { Chart, type ChartOption } from '../components/Chart';
import { Badge, Loading, NotAllowed, ProblemView, Section } from '../components/common';
import { LIVE_REFRESH_MS } from './StationsPage';
import { download, loadDailyRevenue, revenueCsv, type DailyRow } from './dashboard-data';

const PERIODS = { '1': 'today', '7': 'last 7 days', '30': 'last 30 days', '90': 'last 90 days' } as const;

/** every UTC day from `from` to `to` (a day without CDRs is a zero, not a gap) */
export function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = new Date(from.slice(0, 10)).getTime(); t <= new Date(to).getTime(); t += 86_400_000)
    out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

function revenueChart(rows: DailyRow[], currency: string, days: string[]): ChartOption {
  const byDay = new Map(rows.filter((r) => r.currency === currency).map((r) => [r.day, r]));
  const mine = days.map(
    (day) =>
      byDay.get(day) ?? {
        day,
        currency,
        cdrs: 0,
        sessions: 0,
        energyKwh: '0',
        revenueExclVat: '0',
        revenueInclVat: '0',
      },
  );
  return {
    animation: false,
    legend: { top: 0 },
    tooltip: { trigger: 'axis' },
    grid: { left: 56, right: 64, top: 36, bottom: 32 },
    xAxis: { type: 'category', data: days },
    yAxis: [
      { type: 'value', name: `${currency} excl. VAT` },
      { type: 'value', name: 'kWh / sessions', position: 'right' },
    ],
    series: [
      {
        name: `revenue (${currency})`,
        type: 'bar',
        data: mine.map((r) => Number(r.revenueExclVat)),
        itemStyle: { color: '#1e40af' },
      },
      {
        name: 'energy (kWh)',
        type: 'line',
        yAxisIndex: 1,
        data: mine.map((r) => Number(r.energyKwh)),
        itemStyle: { color: '#15803d' },
      },
      {
        name: 'sessions',
        type: 'line',
        yAxisIndex: 1,
        data: mine.map((r) => r.sessions),
        itemStyle: { color: '#b45309' },
      },
    ],
  };
}

export function DashboardPage() {
  const auth = useAuth();
  return (
    <>
      <h1>Dashboard</h1>
      <div className="grid">
        {auth.can('viewStations') ? <StationsSummary /> : null}
        {auth.can('viewStations') ? <OpenAlarms /> : null}
        {auth.can('viewCompleteness') ? <CompletenessSummary /> : null}
      </div>
      {auth.can('viewRevenue') ? <Revenue /> : <NotAllowed what="Revenue (the finance reports)" />}
      {!auth.can('viewStations') && <NotAllowed what="Station status and alarms (operator)" />}
      {!auth.can('viewCompleteness') && <NotAllowed what="Billing completeness (finance)" />}
    </>
  );
}

/** a civil day (YYYY-MM-DD) n days after another */
export function addDays(day: string, n: number): string {
  return new Date(new Date(`${day}T00:00:00Z`).getTime() + n * 86_400_000).toISOString().slice(0, 10);
}

function Revenue() {
  const [period, setPeriod] = useState<keyof typeof PERIODS>('7');
  const [site, setSite] = useState('');
  const [csv, setCsv] = useState<{ busy: boolean; error?: unknown }>({ busy: false });
  const range = useMemo(() => {
    const today = new Date().toISOString().slice(0, 10);
    // days are each site's civil days: a site east of UTC may be on tomorrow already
    return { from: addDays(today, -Number(period) + 1), to: addDays(today, 2), today };
  }, [period]);
  const q = useQuery({
    queryKey: ['reporting', 'revenue', range.from, range.to, site],
    queryFn: ({ signal }) => loadDailyRevenue({ from: range.from, to: range.to, site: site || undefined }, signal),
  });
  const currencies = [...new Set((q.data?.rows ?? []).map((r) => r.currency))];
  const [currency, setCurrency] = useState<string>();
  const cur = currency && currencies.includes(currency) ? currency : currencies[0];
  const option = useMemo(() => {
    if (!q.data || !cur) return undefined;
    const last = q.data.rows.reduce((m, r) => (r.day > m ? r.day : m), range.today);
    return revenueChart(q.data.rows, cur, daysBetween(range.from, last));
  }, [q.data, cur, range]);
  const downloadCsv = async () => {
    setCsv({ busy: true });
    try {
      download(`revenue-${range.from}-${range.to}.csv`, await revenueCsv(range));
      setCsv({ busy: false });
    } catch (e) {
      setCsv({ busy: false, error: e });
    }
  };
  return (
    <Section title="Revenue, energy and sessions per day" id="revenue">
      <div className="filters">
        <label>
          Period{' '}
          <select value={period} onChange={(e) => setPeriod(e.target.value as keyof typeof PERIODS)}>
            {Object.entries(PERIODS).map(([k, v]) => (
              <option key={k} value={k}>
                {v}
              </option>
            ))}
          </select>
        </label>
        <label>
          Site{' '}
          <select value={site} onChange={(e) => setSite(e.target.value)}>
            <option value="">all sites</option>
            {(q.data?.sites ?? []).map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <button type="button" disabled={!q.data || q.data.rows.length === 0 || csv.busy} onClick={downloadCsv}>
          {csv.busy ? 'Downloading…' : 'Download CSV'}
        </button>
        {currencies.length > 1 && (
          <label>
            Currency{' '}
            <select value={cur} onChange={(e) => setCurrency(e.target.value)}>
              {currencies.map((c) => (
                <option key={c}>{c}</option>
              ))}
            </select>
          </label>
        )}
      </div>
      {q.isFetching && (
        <p role="status" className="muted">
          <span className="spinner" aria-hidden="true" /> reading the revenue report…
        </p>
      )}
      <ProblemView error={q.error ?? csv.error} />
      {q.data && q.data.rows.length === 0 && (
        <p className="empty">
          No CDR in this period{site ? ' at this site' : ''}: pick a longer period, or run the demo (npm run demo).
        </p>
      )}
      {option && (
        <Chart
          option={option}
          label={`Revenue, energy and sessions per day, ${PERIODS[period]}`}
          testId="revenue-chart"
        />
      )}
      {q.data && q.data.rows.length > 0 && (
        <table data-testid="daily-table">
          <caption>
            Per day (each site&apos;s civil day of the CDR&apos;s issue; the reporting service&apos;s revenue report):{' '}
            {q.data.cdrs} CDRs
            {q.data.closedPeriods.length ? `; closed periods: ${q.data.closedPeriods.join(', ')}` : ''}
          </caption>
          <thead>
            <tr>
              <th scope="col">Day</th>
              <th scope="col">Currency</th>
              <th scope="col">Sessions</th>
              <th scope="col">kWh</th>
              <th scope="col">Revenue excl. VAT</th>
              <th scope="col">Revenue incl. VAT</th>
            </tr>
          </thead>
          <tbody>
            {q.data.rows.map((r) => (
              <tr key={`${r.day}-${r.currency}`}>
                <td>{r.day}</td>
                <td>{r.currency}</td>
                <td className="num">{r.sessions}</td>
                <td className="num">{r.energyKwh}</td>
                <td className="num">{r.revenueExclVat}</td>
                <td className="num">{r.revenueInclVat}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Section>
  );
}

function StationsSummary() {
  const q = useQuery({
    queryKey: ['reporting', 'stations', 'all'],
    queryFn: async ({ signal }) => {
      const all: MonitoredStation[] = [];
      let cursor: string | undefined;
      do {
        const p = await apiGet<Page<MonitoredStation>, 'reporting', '/api/v1/stations'>(
          'reporting',
          '/api/v1/stations',
          {
            query: { limit: '500', cursor },
            signal,
          },
        );
        all.push(...p.items);
        cursor = p.nextCursor ?? undefined;
      } while (cursor);
      return all;
    },
    refetchInterval: LIVE_REFRESH_MS,
  });
  const all = q.data ?? [];
  const faulted = all.filter((s) => s.connectors.some((c) => c.status === 'Faulted')).length;
  const online = all.filter((s) => s.online).length;
  return (
    <Section title="Stations" id="stations-summary">
      <ProblemView error={q.error} />
      {q.isLoading ? (
        <Loading what="stations" />
      ) : (
        <ul className="kpis" data-testid="stations-kpis">
          <li>
            <span className="kpi">{online}</span> online
          </li>
          <li>
            <span className="kpi">{all.length - online}</span> offline
          </li>
          <li>
            <span className="kpi">{faulted}</span> with a faulted connector
          </li>
        </ul>
      )}
      <Link to="/stations">All stations →</Link>
    </Section>
  );
}

function OpenAlarms() {
  const q = useQuery({
    queryKey: ['reporting', 'alarms', 'open', 'dashboard'],
    queryFn: ({ signal }) =>
      apiGet<Page<Alarm>, 'reporting', '/api/v1/alarms'>('reporting', '/api/v1/alarms', {
        query: { status: 'open' },
        signal,
      }),
    refetchInterval: LIVE_REFRESH_MS,
  });
  const items = q.data?.items ?? [];
  return (
    <Section title="Open alarms" id="alarms-summary">
      <ProblemView error={q.error} />
      {q.isLoading ? (
        <Loading what="alarms" />
      ) : (
        <>
          <p>
            <span className="kpi" data-testid="open-alarms">
              {items.length}
              {q.data?.nextCursor ? '+' : ''}
            </span>{' '}
            open
          </p>
          <ul className="compact">
            {items.slice(0, 4).map((a) => (
              <li key={a.alarmId}>
                <Badge tone="bad">{a.code}</Badge>{' '}
                <Link to="/stations/$stationId" params={{ stationId: a.stationId }}>
                  {a.stationId}
                </Link>
              </li>
            ))}
          </ul>
          <Link to="/stations" hash="alarms">
            Alarms →
          </Link>
        </>
      )}
    </Section>
  );
}

function CompletenessSummary() {
  const q = useQuery({
    queryKey: ['reporting', 'completeness'],
    queryFn: ({ signal }) =>
      apiGet<Completeness, 'reporting', '/api/v1/billing-completeness'>('reporting', '/api/v1/billing-completeness', {
        signal,
      }),
    refetchInterval: LIVE_REFRESH_MS * 2,
  });
  const t = q.data?.totals;
  return (
    <Section title="Billing completeness" id="completeness">
      <ProblemView error={q.error} />
      {q.isLoading && <Loading what="billing completeness" />}
      {q.data && t && (
        <>
          <p>
            <Badge tone={q.data.complete ? 'ok' : 'bad'}>{q.data.complete ? 'complete' : 'incomplete'}</Badge>{' '}
            <span className="muted">every ended session has exactly one outcome</span>
          </p>
          <dl className="facts compact" data-testid="completeness">
            <dt>Sessions ended</dt>
            <dd>{t.sessionsEnded}</dd>
            <dt>CDRs</dt>
            <dd>{t.cdrs}</dd>
            <dt>Pricing failures</dt>
            <dd>{t.pricingFailures}</dd>
            <dt>Missing</dt>
            <dd>{t.missing}</dd>
            <dt>Pending</dt>
            <dd>{t.pending}</dd>
            <dt>Dead letters</dt>
            <dd>{t.deadLetters}</dd>
          </dl>
        </>
      )}
    </Section>
  );
}
