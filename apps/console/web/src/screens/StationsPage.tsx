import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { apiGet, apiPost } from '../api/client';
import type { Alarm, MonitoredStation, Page } from '../api/views';
import { useAuth } from '../auth/auth';
import { Badge, NotAllowed, ProblemView, Section, statusTone } from '../components/common';
import { DataTable, columnsFor, useCursorPages } from '../components/DataTable';
import { ago, dateTime } from '../format';

/** how often the live screens ask again (the reporting service's read model follows the chargers) */
export const LIVE_REFRESH_MS = 5000;

const s = columnsFor<MonitoredStation>();

function stationColumns(now: number) {
  return s.columns([
    s.accessor('stationId', {
      header: 'Station',
      cell: (c) => (
        <Link to="/stations/$stationId" params={{ stationId: c.getValue() }}>
          {c.getValue()}
        </Link>
      ),
    }),
    s.accessor((r) => (r.online ? 'online' : 'offline'), {
      id: 'online',
      header: 'Connection',
      cell: (c) => <Badge tone={statusTone(c.getValue())}>{c.getValue()}</Badge>,
    }),
    s.accessor('lastMessageAt', {
      header: 'Last seen',
      cell: (c) => (
        <time dateTime={c.getValue() ?? undefined} title={dateTime(c.getValue())}>
          {ago(c.getValue(), now)}
        </time>
      ),
    }),
    s.accessor(
      (r) =>
        r.connectors
          .filter((x) => x.connectorId !== 0)
          .map((x) => `${x.evseId ?? ''}/${x.connectorId} ${x.status}`)
          .join(', '),
      {
        id: 'connectors',
        header: 'EVSE/connector status',
        enableSorting: false,
        cell: (c) => (
          <ul className="inline-list">
            {c.row.original.connectors
              .filter((x) => x.connectorId !== 0 || c.row.original.connectors.length === 1)
              .map((x) => (
                <li key={`${x.evseId ?? 0}-${x.connectorId}`}>
                  <span className="muted">
                    {x.evseId !== undefined ? `EVSE ${x.evseId} · ` : ''}#{x.connectorId}
                  </span>{' '}
                  <Badge tone={statusTone(x.status)}>{x.status}</Badge>
                  {x.errorCode && x.errorCode !== 'NoError' ? <span className="muted"> {x.errorCode}</span> : null}
                </li>
              ))}
          </ul>
        ),
      },
    ),
    s.accessor('openAlarms', {
      header: 'Open alarms',
      cell: (c) => (c.getValue() ? <Badge tone="bad">{c.getValue()}</Badge> : <span className="muted">0</span>),
    }),
    s.accessor((r) => r.protocol ?? '', { id: 'protocol', header: 'Protocol' }),
    s.accessor((r) => r.firmwareVersion ?? '', { id: 'firmware', header: 'Firmware' }),
    s.accessor((r) => [r.vendor, r.model].filter(Boolean).join(' '), { id: 'model', header: 'Model' }),
  ]);
}

export function StationsPage() {
  const auth = useAuth();
  const [online, setOnline] = useState<'' | 'true' | 'false'>('');
  const pages = useCursorPages();
  const allowed = auth.can('viewStations');
  const q = useQuery({
    queryKey: ['reporting', 'stations', online, pages.cursor],
    queryFn: ({ signal }) =>
      apiGet<Page<MonitoredStation>, 'reporting', '/api/v1/stations'>('reporting', '/api/v1/stations', {
        query: { limit: '50', cursor: pages.cursor, online: online || undefined },
        signal,
      }),
    refetchInterval: LIVE_REFRESH_MS,
    enabled: allowed,
  });
  const now = q.dataUpdatedAt || Date.now();
  if (!allowed) return <NotAllowed what="Station monitoring" />;
  return (
    <>
      <h1>Stations</h1>
      <Section title="Live status" id="stations">
        <div className="filters">
          <label>
            Connection{' '}
            <select
              value={online}
              onChange={(e) => {
                setOnline(e.target.value as '' | 'true' | 'false');
                pages.reset();
              }}
            >
              <option value="">all</option>
              <option value="true">online</option>
              <option value="false">offline</option>
            </select>
          </label>
          <span className="muted" aria-live="polite">
            refreshed {q.dataUpdatedAt ? new Date(q.dataUpdatedAt).toLocaleTimeString() : '…'} (every{' '}
            {LIVE_REFRESH_MS / 1000} s)
          </span>
        </div>
        <ProblemView error={q.error} />
        <DataTable
          caption="Stations by id, as the reporting service sees them"
          columns={stationColumns(now)}
          rows={q.data?.items}
          rowId={(r) => r.stationId}
          pages={pages}
          nextCursor={q.data?.nextCursor}
          loading={q.isLoading}
          empty="No station has spoken to the CSMS yet: register one with the gateway (PUT /api/v1/stations/{id}) and connect it."
          testId="stations-table"
        />
      </Section>
      <AlarmsSection />
    </>
  );
}

const a = columnsFor<Alarm>();

export function AlarmsSection({ stationId }: { stationId?: string }) {
  const auth = useAuth();
  const qc = useQueryClient();
  const [status, setStatus] = useState<'open' | 'closed' | 'all'>('open');
  const pages = useCursorPages();
  const q = useQuery({
    queryKey: ['reporting', 'alarms', status, stationId, pages.cursor],
    queryFn: ({ signal }) =>
      apiGet<Page<Alarm>, 'reporting', '/api/v1/alarms'>('reporting', '/api/v1/alarms', {
        query: { status, stationId, limit: '50', cursor: pages.cursor },
        signal,
      }),
    refetchInterval: LIVE_REFRESH_MS,
  });
  const ack = useMutation({
    mutationFn: (alarmId: string) =>
      apiPost<Alarm, 'reporting', '/api/v1/alarms/{alarmId}/acknowledge'>(
        'reporting',
        '/api/v1/alarms/{alarmId}/acknowledge',
        {
          path: { alarmId },
        },
      ),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['reporting'] }),
  });
  const canAck = auth.can('acknowledgeAlarms');
  const columns = a.columns([
    a.accessor('openedAt', { header: 'Opened', cell: (c) => dateTime(c.getValue()) }),
    a.accessor('stationId', {
      header: 'Station',
      cell: (c) => (
        <Link to="/stations/$stationId" params={{ stationId: c.getValue() }}>
          {c.getValue()}
        </Link>
      ),
    }),
    a.accessor('kind', { header: 'Kind' }),
    a.accessor(
      (r) =>
        `${r.evseId !== undefined ? `EVSE ${r.evseId} ` : ''}${r.connectorId !== undefined ? `#${r.connectorId}` : ''}`,
      {
        id: 'where',
        header: 'Where',
      },
    ),
    a.accessor('code', { header: 'Code' }),
    a.accessor('detail', { header: 'Detail' }),
    a.accessor('status', {
      header: 'Status',
      cell: (c) => <Badge tone={statusTone(c.getValue())}>{c.getValue()}</Badge>,
    }),
    a.accessor((r) => (r.acknowledgedBy ? `${r.acknowledgedBy.keyName} (${r.acknowledgedBy.role ?? '?'})` : ''), {
      id: 'ack',
      header: 'Acknowledged by',
    }),
    a.display({
      id: 'actions',
      header: 'Action',
      cell: (c) =>
        c.row.original.status === 'open' && canAck ? (
          <button
            type="button"
            onClick={() => ack.mutate(c.row.original.alarmId)}
            disabled={ack.isPending && ack.variables === c.row.original.alarmId}
            aria-label={`Acknowledge alarm ${c.row.original.code} at ${c.row.original.stationId}`}
          >
            {ack.isPending && ack.variables === c.row.original.alarmId ? 'Acknowledging…' : 'Acknowledge'}
          </button>
        ) : null,
    }),
  ]);
  return (
    <Section title="Alarms" id="alarms">
      <div className="filters">
        <label>
          Status{' '}
          <select
            value={status}
            onChange={(e) => {
              setStatus(e.target.value as 'open' | 'closed' | 'all');
              pages.reset();
            }}
          >
            <option value="open">open</option>
            <option value="closed">closed</option>
            <option value="all">all</option>
          </select>
        </label>
        {!canAck && <span className="muted">acknowledging needs the operator role</span>}
      </div>
      <ProblemView error={q.error} />
      <ProblemView error={ack.error} title="Not acknowledged" />
      <DataTable
        caption="Alarms, newest first"
        columns={columns}
        rows={q.data?.items}
        rowId={(r) => r.alarmId}
        pages={pages}
        nextCursor={q.data?.nextCursor}
        loading={q.isLoading}
        empty={status === 'open' ? 'No open alarm: nothing to do.' : 'No alarm.'}
        initialHidden={stationId ? ['stationId'] : []}
        testId="alarms-table"
      />
    </Section>
  );
}
