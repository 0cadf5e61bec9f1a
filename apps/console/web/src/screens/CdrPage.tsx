import { useMemo } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Link, getRouteApi } from '@tanstack/react-router';
import { apiGet } from '../api/client';
import type { Cdr, CdrAudit, Page, SessionView } from '../api/views';
import { useAuth } from '../auth/auth';
import { Chart, type ChartOption } from '../components/Chart';
import { Badge, Json, Loading, NotAllowed, ProblemView, ScrollBox, Section } from '../components/common';
import { dateTime, hours, roundDecimal } from '../format';
import { SessionPayment } from './PaymentsPages';
import { SessionFrames } from './SessionPage';

const route = getRouteApi('/cdrs/$cdrId');

const PERIOD_COLORS = ['#2563eb', '#16a34a', '#d97706', '#9333ea', '#dc2626', '#0891b2'];

/** The charging periods on a time axis: one band per period (named by the tariff element priced in it) and the energy drawn. */
export function periodsChart(cdr: Cdr, audit?: CdrAudit): ChartOption {
  const periods = cdr.charging_periods;
  const ends = periods.map((p, i) => (i + 1 < periods.length ? periods[i + 1].start_date_time : cdr.end_date_time));
  const auditPeriods = audit?.pricing.breakdown.periods ?? [];
  const label = (i: number) => {
    const ap = auditPeriods[i];
    const el = ap ? Object.entries(ap.elements).filter(([, v]) => v !== null) : [];
    const parking = periods[i].dimensions.some((d) => d.type === 'PARKING_TIME');
    return `P${i}${parking ? ' parking' : ''}${el.length ? ` · element ${[...new Set(el.map(([, v]) => v))].join('/')}` : ''}`;
  };
  // cumulative energy at each period's start (the audit's energy_before_kwh, or the OCPI volumes summed) and at the end
  let acc = 0;
  const before = periods.map((p, i) => {
    const fromAudit = auditPeriods[i]?.energy_before_kwh;
    const v = fromAudit !== undefined ? Number(fromAudit) : acc;
    acc = v + Number(p.dimensions.find((d) => d.type === 'ENERGY')?.volume ?? '0');
    return v;
  });
  const points = [
    ...periods.map((p, i) => [p.start_date_time, before[i]] as [string, number]),
    [cdr.end_date_time, Number(cdr.total_energy)] as [string, number],
  ];
  return {
    animation: false,
    grid: { left: 56, right: 24, top: 40, bottom: 48 },
    tooltip: { trigger: 'axis' },
    xAxis: { type: 'time', name: 'UTC', nameLocation: 'middle', nameGap: 30 },
    yAxis: { type: 'value', name: 'kWh (cumulative)' },
    series: [
      {
        type: 'line',
        name: 'energy (kWh)',
        data: points,
        symbolSize: 6,
        itemStyle: { color: '#1e40af' },
        lineStyle: { width: 2 },
        markArea: {
          silent: true,
          label: { show: true, position: 'insideTop', color: '#111827', fontSize: 11 },
          data: periods.map((p, i) => [
            {
              name: label(i),
              xAxis: p.start_date_time,
              itemStyle: { color: PERIOD_COLORS[i % PERIOD_COLORS.length], opacity: 0.14 },
            },
            { xAxis: ends[i] },
          ]) as never,
        },
      },
    ],
  };
}

export function CdrPage() {
  const { cdrId } = route.useParams();
  const auth = useAuth();
  const cdrQ = useQuery({
    queryKey: ['tariffs', 'cdr', cdrId],
    queryFn: ({ signal }) =>
      apiGet<Cdr, 'tariffs', '/api/v1/cdrs/{cdrId}'>('tariffs', '/api/v1/cdrs/{cdrId}', { path: { cdrId }, signal }),
    enabled: auth.can('viewCdrs'),
  });
  const cdr = cdrQ.data;
  // the audit comes with the list (include=audit); the CDRs of one session are few
  const auditQ = useQuery({
    queryKey: ['tariffs', 'cdr-audit', cdrId, cdr?.session_id],
    queryFn: async ({ signal }) => {
      const page = await apiGet<Page<Cdr>, 'tariffs', '/api/v1/cdrs'>('tariffs', '/api/v1/cdrs', {
        query: { sessionId: cdr!.session_id, include: 'audit', limit: '50' },
        signal,
      });
      return page.items.find((i) => i.id === cdrId)?.audit ?? null;
    },
    enabled: !!cdr,
  });
  const sessionQ = useQuery({
    queryKey: ['sessions', 'one', cdr?.session_id],
    queryFn: ({ signal }) =>
      apiGet<SessionView, 'sessions', '/api/v1/sessions/{sessionId}'>('sessions', '/api/v1/sessions/{sessionId}', {
        path: { sessionId: cdr!.session_id },
        signal,
      }),
    enabled: !!cdr && auth.can('viewSessions'),
  });
  const audit = auditQ.data ?? undefined;
  const option = useMemo(() => (cdr ? periodsChart(cdr, audit) : undefined), [cdr, audit]);
  if (!auth.can('viewCdrs')) return <NotAllowed what="CDRs" />;
  if (cdrQ.isLoading) return <Loading what="the CDR" />;
  if (!cdr) return <ProblemView error={cdrQ.error} />;
  const flags = [
    ...new Set([...(audit?.dataQuality?.flags ?? []), ...(sessionQ.data?.ended?.dataQuality?.flags ?? [])]),
  ];
  return (
    <>
      <h1>
        CDR <span className="mono">{cdr.id}</span>
      </h1>
      <Section title="Summary" id="summary">
        <dl className="facts">
          <dt>Period</dt>
          <dd>
            {dateTime(cdr.start_date_time)} → {dateTime(cdr.end_date_time)} ({hours(cdr.total_time)})
          </dd>
          <dt>Where</dt>
          <dd>
            {cdr.cdr_location.name ?? cdr.cdr_location.id} · {cdr.cdr_location.evse_uid} ·{' '}
            {cdr.cdr_location.connector_standard ?? ''}
          </dd>
          <dt>Token</dt>
          <dd>
            {cdr.cdr_token.uid} {cdr.cdr_token.contract_id ? `(contract ${cdr.cdr_token.contract_id})` : ''}
          </dd>
          <dt>Energy</dt>
          <dd>{cdr.total_energy} kWh</dd>
          <dt>Total</dt>
          <dd>
            <strong>
              {cdr.total_cost.excl_vat} {cdr.currency}
            </strong>{' '}
            excl. VAT, {cdr.total_cost.incl_vat} {cdr.currency} incl. VAT
          </dd>
          <dt>Session</dt>
          <dd>
            <Link to="/sessions/$sessionId" params={{ sessionId: cdr.session_id }} className="mono">
              {cdr.session_id}
            </Link>
          </dd>
          {cdr.remark && (
            <>
              <dt>Remark</dt>
              <dd>{cdr.remark}</dd>
            </>
          )}
        </dl>
      </Section>
      <Section title="Charging periods" id="periods">
        {option && (
          <Chart
            option={option}
            label={`Timeline of the ${cdr.charging_periods.length} charging periods and the energy of each`}
            testId="periods-chart"
          />
        )}
        <ScrollBox>
          <table>
            <caption>Charging periods (OCPI)</caption>
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Start (UTC)</th>
                <th scope="col">Dimensions</th>
              </tr>
            </thead>
            <tbody>
              {cdr.charging_periods.map((p, i) => (
                <tr key={i}>
                  <td>P{i}</td>
                  <td>{dateTime(p.start_date_time)}</td>
                  <td>{p.dimensions.map((d) => `${d.type} ${d.volume}`).join(' · ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollBox>
      </Section>
      <AuditSection cdr={cdr} audit={audit} loading={auditQ.isLoading} error={auditQ.error} flags={flags} />
      <Section
        title="Payment"
        id="payment"
        actions={
          auth.can('viewPayments') ? (
            <Link to="/sessions/$sessionId/payment" params={{ sessionId: cdr.session_id }} data-testid="payment-link">
              Payment timeline and journal →
            </Link>
          ) : undefined
        }
      >
        <SessionPayment sessionId={cdr.session_id} compact />
      </Section>
      <Section title="OCPI content" id="ocpi">
        <details>
          <summary>The CDR as OCPI 2.2.1 JSON</summary>
          <Json value={cdr} label="OCPI CDR JSON" />
        </details>
      </Section>
      <Section title="Raw OCPP frames" id="frames">
        {audit?.inboundRecords && (
          <ScrollBox>
            <table>
              <caption>Inbound record ranges the session was built from (from the audit)</caption>
              <thead>
                <tr>
                  <th scope="col">Topic</th>
                  <th scope="col">Partition</th>
                  <th scope="col">Offsets</th>
                  <th scope="col">Records</th>
                  <th scope="col">SHA-256 of their ids</th>
                </tr>
              </thead>
              <tbody>
                {audit.inboundRecords.map((r) => (
                  <tr key={`${r.topic}-${r.partition}`}>
                    <td className="mono">{r.topic}</td>
                    <td>{r.partition}</td>
                    <td>
                      {r.firstOffset}–{r.lastOffset}
                    </td>
                    <td>{r.count}</td>
                    <td className="mono small">{r.sha256}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollBox>
        )}
        {auth.can('viewSessions') ? (
          <SessionFrames sessionId={cdr.session_id} />
        ) : (
          <NotAllowed what="The session's records" />
        )}
      </Section>
    </>
  );
}

function AuditSection({
  cdr,
  audit,
  loading,
  error,
  flags,
}: {
  cdr: Cdr;
  audit?: CdrAudit;
  loading: boolean;
  error: unknown;
  flags: string[];
}) {
  if (loading) return <Loading what="the audit" />;
  if (!audit)
    return (
      <Section title="Audit" id="audit">
        <ProblemView error={error} />
        <p className="muted">No audit was found for this CDR.</p>
      </Section>
    );
  const a = audit.pricing.audit;
  const unrounded = a.unrounded as Record<string, unknown>;
  const totals = [
    'total_cost',
    'total_energy_cost',
    'total_time_cost',
    'total_parking_cost',
    'total_fixed_cost',
    'total_reservation_cost',
  ];
  return (
    <Section title="Audit: how it was priced" id="audit">
      <dl className="facts" data-testid="audit-facts">
        <dt>Tariff version</dt>
        <dd>
          <Link
            to="/tariffs/$tariffId"
            params={{ tariffId: audit.tariffId }}
            search={{ version: audit.tariffVersion }}
            data-testid="tariff-version-link"
          >
            {audit.tariffId} v{audit.tariffVersion}
          </Link>{' '}
          <span className="mono small" title="content hash of the tariff version">
            {audit.tariffContentHash.slice(0, 12)}…
          </span>
        </dd>
        <dt>Chosen by</dt>
        <dd>
          {audit.assignment
            ? `${audit.assignment.level} assignment (from ${dateTime(audit.assignment.effectiveFrom)})`
            : 'no assignment recorded'}
        </dd>
        <dt>Time zone</dt>
        <dd>
          {audit.timeZone} ({audit.timeZoneSource})
        </dd>
        <dt>Rounding</dt>
        <dd>
          {a.rounding}, {a.minor_units} decimals, once per total
        </dd>
        <dt>Engine</dt>
        <dd className="mono">{audit.engineVersion}</dd>
        <dt>Session revision</dt>
        <dd>{audit.sessionRevision}</dd>
        <dt>Data quality</dt>
        <dd data-testid="data-quality">
          {flags.length ? (
            flags.map((f) => (
              <Badge key={f} tone="warn">
                {f}
              </Badge>
            ))
          ) : (
            <Badge tone="ok">no flags</Badge>
          )}
        </dd>
        {a.warnings.length > 0 && (
          <>
            <dt>Warnings</dt>
            <dd>{a.warnings.join(', ')}</dd>
          </>
        )}
      </dl>
      <ScrollBox>
        <table data-testid="audit-periods">
          <caption>Tariff element used per period and dimension</caption>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Local time</th>
              <th scope="col">Day</th>
              <th scope="col">Seconds</th>
              <th scope="col">kWh before</th>
              <th scope="col">FLAT</th>
              <th scope="col">ENERGY</th>
              <th scope="col">TIME</th>
              <th scope="col">PARKING_TIME</th>
            </tr>
          </thead>
          <tbody>
            {audit.pricing.breakdown.periods.map((p) => (
              <tr key={p.period_index}>
                <td>P{p.period_index}</td>
                <td>{p.local_time}</td>
                <td>{p.day_of_week}</td>
                <td>{p.duration_seconds}</td>
                <td>{p.energy_before_kwh}</td>
                {['FLAT', 'ENERGY', 'TIME', 'PARKING_TIME'].map((d) => (
                  <td key={d}>
                    {p.elements[d] === null || p.elements[d] === undefined ? '—' : `element ${p.elements[d]}`}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </ScrollBox>
      <ScrollBox>
        <table>
          <caption>Priced lines (unrounded amounts)</caption>
          <thead>
            <tr>
              <th scope="col">Category</th>
              <th scope="col">Periods</th>
              <th scope="col">Element</th>
              <th scope="col">Quantity</th>
              <th scope="col">Billed (step)</th>
              <th scope="col">Unit price</th>
              <th scope="col">VAT %</th>
              <th scope="col">Excl. VAT</th>
              <th scope="col">Incl. VAT</th>
            </tr>
          </thead>
          <tbody>
            {audit.pricing.breakdown.lines.map((l, i) => (
              <tr key={i}>
                <td>
                  {l.category} <span className="muted">{l.note}</span>
                </td>
                <td>{l.periods.map((p) => `P${p}`).join(' ')}</td>
                <td>{l.element_index ?? '—'}</td>
                <td>
                  {l.quantity} {l.unit}
                </td>
                <td>
                  {l.billed_quantity} {l.unit}
                  {l.step_size ? <span className="muted"> (step {l.step_size})</span> : null}
                </td>
                <td>{l.unit_price ?? '—'}</td>
                <td>{l.vat ?? '—'}</td>
                <td className="num">{l.amount_excl_vat}</td>
                <td className="num">{l.amount_incl_vat ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </ScrollBox>
      <ScrollBox>
        <table data-testid="unrounded-totals">
          <caption>Totals: unrounded (engine) and as reported (rounded {a.rounding})</caption>
          <thead>
            <tr>
              <th scope="col">Total</th>
              <th scope="col">Unrounded excl.</th>
              <th scope="col">Reported excl.</th>
              <th scope="col">Unrounded incl.</th>
              <th scope="col">Reported incl.</th>
            </tr>
          </thead>
          <tbody>
            {totals.map((t) => {
              const u = unrounded[t] as { excl_vat: string; incl_vat: string | null } | undefined;
              const r = (cdr as unknown as Record<string, { excl_vat: string; incl_vat?: string | null } | undefined>)[
                t
              ];
              return (
                <tr key={t}>
                  <th scope="row">{t.replace(/_/g, ' ')}</th>
                  <td className="num">{u?.excl_vat ?? '—'}</td>
                  <td className="num">{r?.excl_vat ?? '—'}</td>
                  <td className="num">{u?.incl_vat ?? '—'}</td>
                  <td className="num">{r?.incl_vat ?? '—'}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </ScrollBox>
      <p className="muted small">
        Check: the unrounded total {String((unrounded.total_cost as { excl_vat: string }).excl_vat)} rounds to{' '}
        {roundDecimal(String((unrounded.total_cost as { excl_vat: string }).excl_vat), a.minor_units)} (half-up; the
        engine applies {a.rounding}).
      </p>
    </Section>
  );
}
