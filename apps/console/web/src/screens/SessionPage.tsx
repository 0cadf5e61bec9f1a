import { useQuery } from '@tanstack/react-query';
import { Link, getRouteApi } from '@tanstack/react-router';
import { apiGet } from '../api/client';
import type { Cdr, Page, RawFrame, Reading, SessionView, SourceRecord } from '../api/views';
import { useAuth } from '../auth/auth';
import { Badge, Json, Loading, NotAllowed, ProblemView, Section, statusTone } from '../components/common';
import { DataTable, columnsFor, useCursorPages } from '../components/DataTable';
import { dateTime, whToKwh } from '../format';

const route = getRouteApi('/sessions/$sessionId');

export function SessionPage() {
  const { sessionId } = route.useParams();
  const auth = useAuth();
  const q = useQuery({
    queryKey: ['sessions', 'one', sessionId],
    queryFn: ({ signal }) =>
      apiGet<SessionView, 'sessions', '/api/v1/sessions/{sessionId}'>('sessions', '/api/v1/sessions/{sessionId}', {
        path: { sessionId },
        signal,
      }),
    enabled: auth.can('viewSessions'),
  });
  const cdrs = useQuery({
    queryKey: ['tariffs', 'cdrs-of', sessionId],
    queryFn: ({ signal }) =>
      apiGet<Page<Cdr>, 'tariffs', '/api/v1/cdrs'>('tariffs', '/api/v1/cdrs', {
        query: { sessionId, limit: '50' },
        signal,
      }),
    enabled: auth.can('viewCdrs'),
  });
  if (!auth.can('viewSessions')) return <NotAllowed what="Sessions" />;
  const s = q.data;
  return (
    <>
      <h1>
        Session <span className="mono">{sessionId}</span>
      </h1>
      <ProblemView error={q.error} />
      {q.isLoading && <Loading what="the session" />}
      {s && (
        <Section title="Session" id="session">
          <dl className="facts">
            <dt>Status</dt>
            <dd>
              <Badge tone={statusTone(s.status)}>{s.status}</Badge>
            </dd>
            <dt>Station</dt>
            <dd>
              {s.stationId} {s.evseId !== undefined ? `EVSE ${s.evseId}` : ''} connector {s.connectorId ?? '—'} (
              {s.protocol})
            </dd>
            <dt>Token</dt>
            <dd>{s.idToken ?? '—'}</dd>
            <dt>Time</dt>
            <dd>
              {dateTime(s.startedAt)} → {dateTime(s.endedAt)}
            </dd>
            <dt>Energy</dt>
            <dd>{whToKwh(s.energyWh)} kWh</dd>
            <dt>CDRs</dt>
            <dd>
              {cdrs.data?.items.length
                ? cdrs.data.items.map((c) => (
                    <Link key={c.id} to="/cdrs/$cdrId" params={{ cdrId: c.id }} className="mono">
                      {c.id}
                    </Link>
                  ))
                : 'none yet'}
            </dd>
          </dl>
          <details>
            <summary>The session as the service keeps it (JSON)</summary>
            <Json value={s} label="session JSON" />
          </details>
        </Section>
      )}
      <Section title="Records it was built from" id="frames">
        <SessionFrames sessionId={sessionId} />
      </Section>
    </>
  );
}

const src = columnsFor<SourceRecord>();
const srcColumns = src.columns([
  src.accessor('topic', { header: 'Topic', cell: (c) => <span className="mono">{c.getValue()}</span> }),
  src.accessor('partition', { header: 'Partition' }),
  src.accessor((r) => Number(r.offset), { id: 'offset', header: 'Offset', cell: (c) => c.row.original.offset }),
  src.accessor('eventId', {
    header: 'Record (event id)',
    cell: (c) => <span className="mono small">{c.getValue()}</span>,
  }),
]);
const fr = columnsFor<RawFrame>();
const frameColumns = fr.columns([
  fr.accessor((r) => r.message?.receivedAt ?? '', {
    id: 'received',
    header: 'Received',
    cell: (c) => dateTime(c.getValue() || null),
  }),
  fr.accessor((r) => `${r.message?.kind ?? ''} ${r.message?.action ?? ''}`.trim(), {
    id: 'action',
    header: 'Message',
  }),
  fr.accessor('status', {
    header: 'Check',
    cell: (c) => (
      <Badge tone={c.getValue() === 'found' ? 'ok' : c.getValue() === 'unread' ? 'warn' : 'bad'}>
        {c.getValue() === 'found' ? 'record id matches' : c.getValue()}
      </Badge>
    ),
  }),
  fr.display({
    id: 'frame',
    header: 'Frame received (OCPP-J) and the answer sent',
    cell: (c) => (
      <details className="frame">
        <summary className="mono small">{JSON.stringify(c.row.original.frame)?.slice(0, 90) ?? '—'}</summary>
        <pre className="json" tabIndex={0} aria-label={`frame at offset ${c.row.original.offset}`}>
          {JSON.stringify(c.row.original.frame, null, 2)}
          {c.row.original.answer ? `\n\n← ${JSON.stringify(c.row.original.answer, null, 2)}` : ''}
        </pre>
      </details>
    ),
  }),
  fr.accessor((r) => `${r.partition}/${r.offset}`, { id: 'position', header: 'Partition/offset' }),
  fr.accessor((r) => r.bytes ?? 0, { id: 'bytes', header: 'Bytes' }),
  fr.accessor('eventId', {
    header: 'Record (event id)',
    cell: (c) => <span className="mono small">{c.getValue()}</span>,
  }),
]);

/** The raw OCPP frames of a session, read back from ocpp.inbound by the session service (GET /sessions/{id}/frames). */
export function RawFrames({ sessionId }: { sessionId: string }) {
  const pages = useCursorPages();
  const q = useQuery({
    queryKey: ['sessions', 'frames', sessionId, pages.cursor],
    queryFn: ({ signal }) =>
      apiGet<Page<RawFrame>, 'sessions', '/api/v1/sessions/{sessionId}/frames'>(
        'sessions',
        '/api/v1/sessions/{sessionId}/frames',
        { path: { sessionId }, query: { limit: '20', cursor: pages.cursor }, signal },
      ),
  });
  return (
    <>
      <ProblemView error={q.error} />
      {q.isFetching && (
        <p role="status" className="muted">
          <span className="spinner" aria-hidden="true" /> reading the frames from the log…
        </p>
      )}
      <DataTable
        caption="Raw OCPP frames the session was built from, read back from the log at their offsets (log order)"
        columns={frameColumns}
        rows={q.data?.items}
        rowId={(r) => `${r.topic}/${r.partition}/${r.offset}`}
        pages={pages}
        nextCursor={q.data?.nextCursor}
        loading={q.isLoading}
        empty="The session service recorded no inbound record for this session."
        initialHidden={['eventId', 'bytes']}
        testId="raw-frames-table"
      />
    </>
  );
}

const rd = columnsFor<Reading>();
const readingColumns = rd.columns([
  rd.accessor('at', { header: 'Station time', cell: (c) => dateTime(c.getValue()) }),
  rd.accessor('receivedAt', { header: 'Received', cell: (c) => dateTime(c.getValue()) }),
  rd.accessor((r) => `${r.source.partition}/${r.source.offset}`, {
    id: 'source',
    header: 'Inbound record (partition/offset)',
  }),
  rd.display({
    id: 'samples',
    header: 'Sampled values as sent (raw) → normalised',
    cell: (c) => (
      <ul className="samples">
        {c.row.original.samples.map((x, i) => (
          <li key={i}>
            <span className="muted">{x.measurand ?? 'Energy.Active.Import.Register'}</span> {JSON.stringify(x.raw)} →{' '}
            {x.value} {x.unit}
            {x.phase ? ` ${x.phase}` : ''} <span className="muted">{x.context}</span>
          </li>
        ))}
      </ul>
    ),
  }),
]);

/**
 * The frames behind a session: the raw OCPP frames themselves (read back from `ocpp.inbound` by the session
 * service), every inbound record it used (topic, partition, offset, the record's event id) and every meter sample
 * with the values exactly as the station sent them (`raw`).
 */
export function SessionFrames({ sessionId }: { sessionId: string }) {
  const srcPages = useCursorPages();
  const rdPages = useCursorPages();
  const sources = useQuery({
    queryKey: ['sessions', 'sources', sessionId, srcPages.cursor],
    queryFn: ({ signal }) =>
      apiGet<Page<SourceRecord>, 'sessions', '/api/v1/sessions/{sessionId}/sources'>(
        'sessions',
        '/api/v1/sessions/{sessionId}/sources',
        {
          path: { sessionId },
          query: { limit: '20', cursor: srcPages.cursor },
          signal,
        },
      ),
  });
  const readings = useQuery({
    queryKey: ['sessions', 'readings', sessionId, rdPages.cursor],
    queryFn: ({ signal }) =>
      apiGet<Page<Reading>, 'sessions', '/api/v1/sessions/{sessionId}/readings'>(
        'sessions',
        '/api/v1/sessions/{sessionId}/readings',
        {
          path: { sessionId },
          query: { limit: '10', cursor: rdPages.cursor },
          signal,
        },
      ),
  });
  return (
    <div data-testid="session-frames">
      <p className="muted small">
        Every OCPP frame (inbound record) the session was built from, read back from the <code>ocpp.inbound</code> topic
        at its offset and checked against the record id the session service kept; then the positions alone and the meter
        values as the station sent them.
      </p>
      <RawFrames sessionId={sessionId} />
      <ProblemView error={sources.error ?? readings.error} />
      <DataTable
        caption="Inbound records (OCPP frames) the session used, in log order"
        columns={srcColumns}
        rows={sources.data?.items}
        rowId={(r) => r.eventId}
        pages={srcPages}
        nextCursor={sources.data?.nextCursor}
        loading={sources.isLoading}
        empty="The session service recorded no inbound record for this session."
        testId="sources-table"
      />
      <DataTable
        caption="Meter values, as sent and as normalised"
        columns={readingColumns}
        rows={readings.data?.items}
        rowId={(r) => r.eventId}
        pages={rdPages}
        nextCursor={readings.data?.nextCursor}
        loading={readings.isLoading}
        empty="No meter values."
        testId="readings-table"
      />
    </div>
  );
}
