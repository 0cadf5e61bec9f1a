import { useState, type FormEvent } from 'react';
import { useMutation, useQueries, useQuery } from '@tanstack/react-query';
import { getRouteApi } from '@tanstack/react-router';
import { apiGet, apiPost } from '../api/client';
import type { Command, MonitoredStation } from '../api/views';
import { useAuth } from '../auth/auth';
import { Badge, Json, Loading, NotAllowed, ProblemView, Section, statusTone } from '../components/common';
import { ago, dateTime } from '../format';
import { FINAL_COMMAND_STATUSES, commandFor, type CommandBody, type CommandKind } from './commands';
import { AlarmsSection, LIVE_REFRESH_MS } from './StationsPage';

const route = getRouteApi('/stations/$stationId');

export function StationPage() {
  const { stationId } = route.useParams();
  const auth = useAuth();
  const q = useQuery({
    queryKey: ['reporting', 'station', stationId],
    queryFn: ({ signal }) =>
      apiGet<MonitoredStation, 'reporting', '/api/v1/stations/{stationId}'>(
        'reporting',
        '/api/v1/stations/{stationId}',
        {
          path: { stationId },
          signal,
        },
      ),
    refetchInterval: LIVE_REFRESH_MS,
    enabled: auth.can('viewStations'),
  });
  if (!auth.can('viewStations')) return <NotAllowed what="Station monitoring" />;
  const st = q.data;
  const now = q.dataUpdatedAt || Date.now();
  return (
    <>
      <h1>
        Station <span className="mono">{stationId}</span>
      </h1>
      <ProblemView error={q.error} />
      {q.isLoading && <Loading what="the station" />}
      {st && (
        <Section title="Status" id="status">
          <dl className="facts">
            <dt>Connection</dt>
            <dd>
              <Badge tone={st.online ? 'ok' : 'bad'}>{st.online ? 'online' : 'offline'}</Badge>
              {!st.online && st.disconnectReason ? <span className="muted"> {st.disconnectReason}</span> : null}
            </dd>
            <dt>Last seen</dt>
            <dd title={dateTime(st.lastMessageAt)}>{ago(st.lastMessageAt, now)}</dd>
            <dt>Protocol</dt>
            <dd>{st.protocol ?? '—'}</dd>
            <dt>Model</dt>
            <dd>{[st.vendor, st.model].filter(Boolean).join(' ') || '—'}</dd>
            <dt>Firmware</dt>
            <dd>
              {st.firmwareVersion ?? '—'}{' '}
              {st.firmware?.status ? (
                <Badge tone={statusTone(String(st.firmware.status))}>{String(st.firmware.status)}</Badge>
              ) : null}
            </dd>
            <dt>Diagnostics / logs</dt>
            <dd>
              {st.diagnostics?.status ? (
                <Badge tone={statusTone(String(st.diagnostics.status))}>{String(st.diagnostics.status)}</Badge>
              ) : (
                '—'
              )}
            </dd>
          </dl>
          <table>
            <caption>EVSEs and connectors</caption>
            <thead>
              <tr>
                <th scope="col">EVSE</th>
                <th scope="col">Connector</th>
                <th scope="col">Status</th>
                <th scope="col">Error</th>
                <th scope="col">Since</th>
              </tr>
            </thead>
            <tbody>
              {st.connectors.map((c) => (
                <tr key={`${c.evseId ?? 0}-${c.connectorId}`}>
                  <td>{c.evseId ?? (c.connectorId === 0 ? 'station' : '—')}</td>
                  <td>{c.connectorId}</td>
                  <td>
                    <Badge tone={statusTone(c.status)}>{c.status}</Badge>
                  </td>
                  <td>{c.errorCode && c.errorCode !== 'NoError' ? c.errorCode : ''}</td>
                  <td>{dateTime(c.since)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Section>
      )}
      {auth.can('sendCommands') ? (
        <CommandsSection stationId={stationId} protocol={st?.protocol} />
      ) : (
        <NotAllowed what="Remote commands (operator)" />
      )}
      <AlarmsSection stationId={stationId} />
    </>
  );
}

function CommandsSection({ stationId, protocol }: { stationId: string; protocol?: string | null }) {
  const [kind, setKind] = useState<CommandKind>('reset');
  const [resetType, setResetType] = useState('Soft');
  const [evseId, setEvseId] = useState(1);
  const [connectorId, setConnectorId] = useState(1);
  const [location, setLocation] = useState('');
  const [retrieveAt, setRetrieveAt] = useState(() => new Date().toISOString().slice(0, 19) + 'Z');
  const [sent, setSent] = useState<string[]>([]);
  const send = useMutation({
    mutationFn: (body: CommandBody) =>
      apiPost<Command, 'gateway', '/api/v1/stations/{stationId}/commands'>(
        'gateway',
        '/api/v1/stations/{stationId}/commands',
        {
          path: { stationId },
          body,
        },
      ),
    onSuccess: (c) => setSent((s) => [c.commandId, ...s]),
  });
  // each command sent from here is asked for until its result is final
  const results = useQueries({
    queries: sent.map((commandId) => ({
      queryKey: ['gateway', 'command', commandId],
      queryFn: ({ signal }: { signal: AbortSignal }) =>
        apiGet<Command, 'gateway', '/api/v1/commands/{commandId}'>('gateway', '/api/v1/commands/{commandId}', {
          path: { commandId },
          signal,
        }),
      refetchInterval: (query: { state: { data?: Command } }) =>
        query.state.data && FINAL_COMMAND_STATUSES.includes(query.state.data.status) ? false : 1000,
    })),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    send.mutate(
      commandFor(kind, protocol, {
        resetType,
        evseId,
        connectorId,
        location,
        retrieveAt,
        requestId: Math.floor(Date.now() / 1000) % 2147483647,
      }),
    );
  };
  const needsLocation = kind === 'firmware' || kind === 'diagnostics';
  return (
    <Section title="Remote commands" id="commands">
      <form className="command-form" onSubmit={submit}>
        <fieldset>
          <legend>Operation</legend>
          {(
            [
              ['reset', 'Reset'],
              ['unlock', 'Unlock connector'],
              ['firmware', 'Update firmware'],
              ['diagnostics', protocol === 'ocpp2.0.1' ? 'Get log (diagnostics)' : 'Get diagnostics'],
            ] as const
          ).map(([k, label]) => (
            <label key={k} className="radio">
              <input type="radio" name="kind" value={k} checked={kind === k} onChange={() => setKind(k)} /> {label}
            </label>
          ))}
        </fieldset>
        {kind === 'reset' && (
          <label>
            Reset type{' '}
            <select value={resetType} onChange={(e) => setResetType(e.target.value)}>
              <option value="Soft">{protocol === 'ocpp2.0.1' ? 'OnIdle (soft)' : 'Soft'}</option>
              <option value="Hard">{protocol === 'ocpp2.0.1' ? 'Immediate (hard)' : 'Hard'}</option>
            </select>
          </label>
        )}
        {kind === 'unlock' && (
          <>
            {protocol === 'ocpp2.0.1' && (
              <label>
                EVSE <input type="number" min={1} value={evseId} onChange={(e) => setEvseId(Number(e.target.value))} />
              </label>
            )}
            <label>
              Connector{' '}
              <input
                type="number"
                min={1}
                value={connectorId}
                onChange={(e) => setConnectorId(Number(e.target.value))}
              />
            </label>
          </>
        )}
        {needsLocation && (
          <>
            <label>
              {kind === 'firmware' ? 'Firmware URL' : 'Upload to (URL)'}{' '}
              <input
                type="url"
                required
                value={location}
                onChange={(e) => setLocation(e.target.value)}
                placeholder="https://…"
              />
            </label>
            {kind === 'firmware' && (
              <label>
                Retrieve at <input value={retrieveAt} onChange={(e) => setRetrieveAt(e.target.value)} />
              </label>
            )}
          </>
        )}
        <button type="submit" className="primary" disabled={send.isPending}>
          {send.isPending ? 'Sending…' : 'Send'}
        </button>
      </form>
      <ProblemView error={send.error} title="Not sent" />
      {sent.length === 0 ? (
        <p className="muted">No command sent from this page yet. Results appear here as the station answers.</p>
      ) : (
        <table data-testid="commands-table">
          <caption>Commands sent from this page, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Requested</th>
              <th scope="col">Action</th>
              <th scope="col">Status</th>
              <th scope="col">Answer</th>
            </tr>
          </thead>
          <tbody>
            {sent.map((id, i) => {
              const r = results[i];
              const c = r?.data;
              return (
                <tr key={id}>
                  <td>{c ? dateTime(c.requestedAt) : '…'}</td>
                  <td>{c?.action ?? '…'}</td>
                  <td aria-live="polite">
                    {c ? (
                      <Badge tone={statusTone(c.status)}>{c.status}</Badge>
                    ) : (
                      <span className="spinner" aria-label="asking" />
                    )}
                    {c && !FINAL_COMMAND_STATUSES.includes(c.status) ? (
                      <span className="spinner" aria-hidden="true" />
                    ) : null}
                    <ProblemView error={r?.error} />
                  </td>
                  <td>
                    {c?.result ? (
                      <Json
                        value={c.result.response ?? c.result.detail ?? c.result.errorCode}
                        label="station's answer"
                      />
                    ) : (
                      ''
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </Section>
  );
}
