import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { apiGet } from '../api/client';
import type { Page, SessionView } from '../api/views';
import { useAuth } from '../auth/auth';
import { Badge, NotAllowed, ProblemView, Section, statusTone } from '../components/common';
import { DataTable, columnsFor, useCursorPages } from '../components/DataTable';
import { dateTime, whToKwh } from '../format';
import { FilterForm, toInstant } from './filters';

const c = columnsFor<SessionView>();
const flagsOf = (r: SessionView) => r.ended?.dataQuality?.flags ?? r.latest?.flags ?? [];
const columns = c.columns([
  c.accessor('startedAt', {
    header: 'Started',
    cell: (x) => (
      <Link to="/sessions/$sessionId" params={{ sessionId: x.row.original.sessionId }}>
        {dateTime(x.getValue())}
      </Link>
    ),
  }),
  c.accessor((r) => r.endedAt ?? '', { id: 'endedAt', header: 'Ended', cell: (x) => dateTime(x.getValue() || null) }),
  c.accessor('stationId', { header: 'Station' }),
  c.accessor((r) => `${r.evseId !== undefined ? `${r.evseId}/` : ''}${r.connectorId ?? ''}`, {
    id: 'connector',
    header: 'EVSE/connector',
  }),
  c.accessor((r) => r.idToken ?? '', { id: 'idToken', header: 'Token' }),
  c.accessor('status', {
    header: 'Status',
    cell: (x) => <Badge tone={statusTone(x.getValue())}>{x.getValue()}</Badge>,
  }),
  c.accessor((r) => Number(r.energyWh), {
    id: 'energy',
    header: 'Energy kWh',
    cell: (x) => whToKwh(x.row.original.energyWh),
  }),
  c.accessor((r) => flagsOf(r).join(', '), {
    id: 'flags',
    header: 'Data quality',
    cell: (x) =>
      flagsOf(x.row.original).map((f) => (
        <Badge key={f} tone="warn">
          {f}
        </Badge>
      )),
  }),
  c.accessor('protocol', { header: 'Protocol' }),
  c.accessor('transactionId', { header: 'Transaction' }),
  c.display({
    id: 'cdr',
    header: 'CDR',
    cell: (x) =>
      x.row.original.status === 'ended' ? (
        <Link to="/cdrs" search={{ sessionId: x.row.original.sessionId }}>
          CDR
        </Link>
      ) : null,
  }),
]);

type Filters = { stationId: string; idToken: string; status: string; from: string; to: string; flag: string };
const NO_FILTERS: Filters = { stationId: '', idToken: '', status: '', from: '', to: '', flag: '' };

export function SessionsPage() {
  const auth = useAuth();
  const [f, setF] = useState<Filters>(NO_FILTERS);
  const pages = useCursorPages();
  const q = useQuery({
    queryKey: ['sessions', f.stationId, f.idToken, f.status, f.from, f.to, pages.cursor],
    queryFn: ({ signal }) =>
      apiGet<Page<SessionView>, 'sessions', '/api/v1/sessions'>('sessions', '/api/v1/sessions', {
        query: {
          limit: '50',
          cursor: pages.cursor,
          stationId: f.stationId || undefined,
          idToken: f.idToken || undefined,
          status: (f.status || undefined) as 'active' | 'incomplete' | 'ended' | undefined,
          from: toInstant(f.from),
          to: toInstant(f.to),
        },
        signal,
      }),
    enabled: auth.can('viewSessions'),
  });
  if (!auth.can('viewSessions')) return <NotAllowed what="Sessions" />;
  // the sessions API has no data-quality filter: the flag filter narrows the page shown
  const rows = f.flag ? q.data?.items.filter((r) => flagsOf(r).includes(f.flag)) : q.data?.items;
  return (
    <>
      <h1>Sessions</h1>
      <Section title="Charging sessions" id="sessions">
        <FilterForm
          label="Session filters"
          initial={NO_FILTERS}
          onApply={(v) => {
            setF(v);
            pages.reset();
          }}
        >
          {(v, set) => (
            <>
              <label>
                Station <input value={v.stationId} onChange={(e) => set('stationId', e.target.value)} />
              </label>
              <label>
                Token <input value={v.idToken} onChange={(e) => set('idToken', e.target.value)} />
              </label>
              <label>
                Status{' '}
                <select value={v.status} onChange={(e) => set('status', e.target.value)}>
                  <option value="">any</option>
                  <option value="active">active</option>
                  <option value="ended">ended</option>
                  <option value="incomplete">incomplete</option>
                </select>
              </label>
              <label>
                Started from (UTC){' '}
                <input type="datetime-local" value={v.from} onChange={(e) => set('from', e.target.value)} />
              </label>
              <label>
                to <input type="datetime-local" value={v.to} onChange={(e) => set('to', e.target.value)} />
              </label>
              <label>
                Data-quality flag (this page){' '}
                <input
                  value={v.flag}
                  onChange={(e) => set('flag', e.target.value)}
                  placeholder="e.g. STATION_CLOCK_AHEAD"
                />
              </label>
            </>
          )}
        </FilterForm>
        <ProblemView error={q.error} />
        <DataTable
          caption="Sessions, newest first (the service's order; column sorting sorts this page)"
          columns={columns}
          rows={rows}
          rowId={(r) => r.sessionId}
          pages={pages}
          nextCursor={q.data?.nextCursor}
          loading={q.isLoading}
          empty="No session matches. Clear the filters, or let a charger start one (npm run simulate)."
          initialHidden={['protocol', 'transactionId']}
          testId="sessions-table"
        />
      </Section>
    </>
  );
}
