import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Link, getRouteApi } from '@tanstack/react-router';
import { apiGet } from '../api/client';
import type { operations } from '../api/generated/tariffs';
import type { Cdr, Page } from '../api/views';
import { useAuth } from '../auth/auth';
import { Badge, NotAllowed, ProblemView, Section } from '../components/common';
import { DataTable, columnsFor, useCursorPages } from '../components/DataTable';
import { dateTime, hours, sumDecimals } from '../format';
import { FilterForm, toInstant } from './filters';

const route = getRouteApi('/cdrs');
const c = columnsFor<Cdr>();
const columns = c.columns([
  c.accessor('id', {
    header: 'CDR',
    cell: (x) => (
      <Link to="/cdrs/$cdrId" params={{ cdrId: x.getValue() }} className="mono">
        {x.getValue()}
      </Link>
    ),
  }),
  c.accessor('start_date_time', { header: 'Start', cell: (x) => dateTime(x.getValue()) }),
  c.accessor('end_date_time', { header: 'End', cell: (x) => dateTime(x.getValue()) }),
  c.accessor((r) => r.cdr_location.evse_uid, { id: 'evse', header: 'Station*EVSE' }),
  c.accessor((r) => r.cdr_token.uid, { id: 'token', header: 'Token' }),
  c.accessor((r) => r.cdr_token.contract_id ?? '', { id: 'contract', header: 'Contract' }),
  c.accessor((r) => Number(r.total_energy), { id: 'energy', header: 'kWh', cell: (x) => x.row.original.total_energy }),
  c.accessor((r) => Number(r.total_time), {
    id: 'time',
    header: 'Duration',
    cell: (x) => hours(x.row.original.total_time),
  }),
  c.accessor((r) => Number(r.total_cost.excl_vat), {
    id: 'excl',
    header: 'Total excl. VAT',
    cell: (x) => `${x.row.original.total_cost.excl_vat} ${x.row.original.currency}`,
  }),
  c.accessor((r) => Number(r.total_cost.incl_vat ?? 0), {
    id: 'incl',
    header: 'Total incl. VAT',
    cell: (x) => `${x.row.original.total_cost.incl_vat ?? '—'} ${x.row.original.currency}`,
  }),
  c.accessor((r) => r.remark ?? '', {
    id: 'remark',
    header: 'Remark',
    cell: (x) => (x.getValue() ? <Badge tone="warn">{x.getValue()}</Badge> : null),
  }),
  c.accessor('session_id', {
    header: 'Session',
    cell: (x) => <span className="mono">{x.getValue().slice(0, 8)}</span>,
  }),
]);

type Filters = {
  stationId: string;
  idToken: string;
  sessionId: string;
  from: string;
  to: string;
  dataQuality: string;
  signedMeterValues: string;
};
type SignedFilter = NonNullable<
  NonNullable<operations['CdrsController_list']['parameters']['query']>['signedMeterValues']
>;
/** the signed meter values' verdicts the service's OpenAPI lists (one it drops fails the console's build) */
const SIGNED: readonly SignedFilter[] = ['VERIFIED', 'FAILED', 'UNVERIFIED'];

export function CdrsPage() {
  const auth = useAuth();
  const search = route.useSearch();
  const initial: Filters = {
    stationId: '',
    idToken: '',
    sessionId: search.sessionId ?? '',
    from: '',
    to: '',
    dataQuality: '',
    signedMeterValues: '',
  };
  const [f, setF] = useState<Filters>(initial);
  const pages = useCursorPages();
  const q = useQuery({
    queryKey: ['tariffs', 'cdrs', f, pages.cursor],
    queryFn: ({ signal }) =>
      apiGet<Page<Cdr>, 'tariffs', '/api/v1/cdrs'>('tariffs', '/api/v1/cdrs', {
        query: {
          limit: '50',
          cursor: pages.cursor,
          stationId: f.stationId || undefined,
          idToken: f.idToken || undefined,
          sessionId: f.sessionId || undefined,
          from: toInstant(f.from),
          to: toInstant(f.to),
          dataQuality: (f.dataQuality || undefined) as 'LOCATION_INCOMPLETE' | undefined,
          signedMeterValues: (f.signedMeterValues || undefined) as SignedFilter | undefined,
        },
        signal,
      }),
    enabled: auth.can('viewCdrs'),
  });
  if (!auth.can('viewCdrs')) return <NotAllowed what="CDRs" />;
  const items = q.data?.items ?? [];
  const currencies = [...new Set(items.map((i) => i.currency))];
  return (
    <>
      <h1>Charge detail records</h1>
      <Section title="CDRs (OCPI 2.2.1)" id="cdrs">
        <FilterForm
          label="CDR filters"
          initial={initial}
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
                Session <input value={v.sessionId} onChange={(e) => set('sessionId', e.target.value)} />
              </label>
              <label>
                Started from (UTC){' '}
                <input type="datetime-local" value={v.from} onChange={(e) => set('from', e.target.value)} />
              </label>
              <label>
                to <input type="datetime-local" value={v.to} onChange={(e) => set('to', e.target.value)} />
              </label>
              <label>
                Data quality{' '}
                <select value={v.dataQuality} onChange={(e) => set('dataQuality', e.target.value)}>
                  <option value="">any</option>
                  <option value="LOCATION_INCOMPLETE">LOCATION_INCOMPLETE</option>
                </select>
              </label>
              <label>
                Signed meter values{' '}
                <select value={v.signedMeterValues} onChange={(e) => set('signedMeterValues', e.target.value)}>
                  <option value="">any</option>
                  {SIGNED.map((x) => (
                    <option key={x} value={x}>
                      {x}
                    </option>
                  ))}
                </select>
              </label>
            </>
          )}
        </FilterForm>
        <ProblemView error={q.error} />
        {items.length > 0 && (
          <p className="muted" data-testid="cdr-page-totals">
            This page: {items.length} CDRs,{' '}
            {currencies
              .map(
                (cur) =>
                  `${sumDecimals(items.filter((i) => i.currency === cur).map((i) => i.total_cost.excl_vat))} ${cur} excl. VAT`,
              )
              .join(', ')}
            , {sumDecimals(items.map((i) => i.total_energy))} kWh
          </p>
        )}
        <DataTable
          caption="CDRs, oldest first (the service's order; column sorting sorts this page)"
          columns={columns}
          rows={q.data?.items}
          rowId={(r) => r.id}
          pages={pages}
          nextCursor={q.data?.nextCursor}
          loading={q.isLoading}
          empty="No CDR matches. A CDR appears when a session ends and is priced; clear the filters or check the tariff service's pricing failures."
          initialHidden={['contract', 'session_id', 'end_date_time']}
          testId="cdrs-table"
        />
      </Section>
    </>
  );
}
