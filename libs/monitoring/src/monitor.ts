import { v5 as uuidv5 } from 'uuid';
import type { ChargerEvent, OcppProtocol } from '@csms/ocpp-normaliser';

/** Namespace of alarm ids: UUID v5 of the station, the alarm's key and the event that opened it. */
export const ALARM_NAMESPACE = '0e7a1c55-3b9d-5f2e-8a41-6c2d9e0b7f31';

export type AlarmKind = 'CONNECTOR_FAULTED' | 'MONITORING_EVENT' | 'SECURITY_EVENT';

export interface Alarm {
  alarmId: string;
  stationId: string;
  kind: AlarmKind;
  /** what identifies the condition: the same key opened twice is one alarm until it closes */
  key: string;
  evseId?: number;
  connectorId?: number;
  code: string;
  detail: string;
  openedAt: string;
  openedBy: string;
  closedAt?: string;
  closedBy?: string;
}

export interface ConnectorView {
  evseId?: number;
  connectorId: number;
  status: string;
  errorCode?: string;
  info?: string;
  since: string;
}

export interface StationView {
  stationId: string;
  protocol?: OcppProtocol;
  online: boolean;
  connectedAt?: string;
  disconnectedAt?: string;
  disconnectReason?: string;
  /** gateway receive time of the newest record from the station */
  lastMessageAt?: string;
  bootedAt?: string;
  vendor?: string;
  model?: string;
  serialNumber?: string;
  firmwareVersion?: string;
  registrationStatus?: string;
  firmware?: { status: string; at: string; requestId?: number };
  diagnostics?: { kind: 'diagnostics' | 'log'; status: string; at: string; requestId?: number };
  connectors: Record<string, ConnectorView>;
  /** alarms open now */
  openAlarms: Alarm[];
}

export interface MonitorResult {
  view: StationView;
  opened: Alarm[];
  closed: Alarm[];
}

export const emptyView = (stationId: string): StationView => ({
  stationId,
  online: false,
  connectors: {},
  openAlarms: [],
});

const connectorKey = (evseId: number | undefined, connectorId: number) =>
  evseId === undefined ? `c${connectorId}` : `e${evseId}c${connectorId}`;
const later = (a: string | undefined, b: string) => (a === undefined || Date.parse(b) >= Date.parse(a) ? b : a);

/**
 * Folds one charger event into the monitoring view of its station. Pure.
 * Alarm rules:
 * - CONNECTOR_FAULTED opens when a connector (or connector 0, the whole station) reports Faulted and
 *   closes with the next status of that connector that is not Faulted.
 * - MONITORING_EVENT opens with a 2.0.1 NotifyEvent alert (component/variable/trigger) and closes
 *   when the station reports the same component and variable `cleared`.
 * - SECURITY_EVENT opens with each SecurityEventNotification and closes only when an operator
 *   acknowledges it (through the API).
 */
export function applyChargerEvent(current: StationView | undefined, e: ChargerEvent): MonitorResult {
  const view: StationView = current
    ? { ...current, connectors: { ...current.connectors }, openAlarms: [...current.openAlarms] }
    : emptyView(e.stationId);
  const opened: Alarm[] = [];
  const closed: Alarm[] = [];
  view.protocol = e.protocol;
  view.lastMessageAt = later(view.lastMessageAt, e.receivedAt);
  // anything a station says means it is connected; only a disconnect says otherwise
  if (e.type !== 'station.disconnected') view.online = true;

  const open = (kind: AlarmKind, key: string, fields: Pick<Alarm, 'code' | 'detail' | 'evseId' | 'connectorId'>) => {
    if (view.openAlarms.some((a) => a.key === key)) return;
    const alarm: Alarm = {
      alarmId: uuidv5(`${e.stationId}|${key}|${e.eventId}`, ALARM_NAMESPACE),
      stationId: e.stationId,
      kind,
      key,
      ...fields,
      openedAt: e.occurredAt,
      openedBy: e.eventId,
    };
    view.openAlarms.push(alarm);
    opened.push(alarm);
  };
  const close = (key: string) => {
    const i = view.openAlarms.findIndex((a) => a.key === key);
    if (i < 0) return;
    const alarm = { ...view.openAlarms[i], closedAt: e.occurredAt, closedBy: e.eventId };
    view.openAlarms.splice(i, 1);
    closed.push(alarm);
  };

  switch (e.type) {
    case 'station.connected':
      view.connectedAt = e.occurredAt;
      break;
    case 'station.disconnected':
      view.online = false;
      view.disconnectedAt = e.occurredAt;
      view.disconnectReason = e.reason;
      break;
    case 'station.booted':
      view.bootedAt = e.occurredAt;
      view.vendor = e.vendor;
      view.model = e.model;
      view.serialNumber = e.serialNumber;
      view.firmwareVersion = e.firmwareVersion;
      view.registrationStatus = e.registrationStatus;
      break;
    case 'connector.status.changed': {
      const key = connectorKey(e.evseId, e.connectorId);
      view.connectors[key] = {
        evseId: e.evseId,
        connectorId: e.connectorId,
        status: e.status,
        errorCode: e.errorCode,
        info: e.info,
        since: e.occurredAt,
      };
      const alarmKey = `faulted:${key}`;
      if (e.status === 'Faulted') {
        const what = e.connectorId === 0 ? 'the station' : `connector ${key}`;
        open('CONNECTOR_FAULTED', alarmKey, {
          code: e.errorCode ?? 'Faulted',
          detail: `${what} reports Faulted${e.errorCode ? ` (${e.errorCode})` : ''}${e.info ? `: ${e.info}` : ''}${e.vendorErrorCode ? ` [${e.vendorId ?? ''} ${e.vendorErrorCode}]` : ''}`,
          evseId: e.evseId,
          connectorId: e.connectorId,
        });
      } else close(alarmKey);
      break;
    }
    case 'fault.reported':
      if (e.origin === 'monitoring') {
        const key = `monitoring:${e.component ?? ''}:${e.variable ?? ''}:${e.evseId ?? ''}:${e.connectorId ?? ''}`;
        if (e.cleared) close(key);
        else
          open('MONITORING_EVENT', key, {
            code: e.trigger ?? 'Alerting',
            detail: `${e.component ?? 'component'}.${e.variable ?? 'variable'} = ${e.actualValue ?? '?'}${e.techInfo ? ` (${e.techInfo})` : ''}`,
            evseId: e.evseId,
            connectorId: e.connectorId,
          });
      }
      break;
    case 'security.event.reported':
      open('SECURITY_EVENT', `security:${e.eventId}`, {
        code: e.securityEventType,
        detail: e.techInfo ?? e.securityEventType,
      });
      break;
    case 'firmware.status.reported':
      view.firmware = {
        status: e.status,
        at: e.occurredAt,
        ...(e.requestId === undefined ? {} : { requestId: e.requestId }),
      };
      break;
    case 'diagnostics.status.reported':
      view.diagnostics = {
        kind: e.kind,
        status: e.status,
        at: e.occurredAt,
        ...(e.requestId === undefined ? {} : { requestId: e.requestId }),
      };
      break;
    default:
    // transactions and meter values: only lastMessageAt (sessions are the session service's business)
  }
  return { view, opened, closed };
}

/** An operator acknowledges an alarm: it closes (security events close only this way). */
export function acknowledge(view: StationView, alarmId: string, at: string, by: string): MonitorResult {
  const i = view.openAlarms.findIndex((a) => a.alarmId === alarmId);
  if (i < 0) return { view, opened: [], closed: [] };
  const alarm = { ...view.openAlarms[i], closedAt: at, closedBy: by };
  return { view: { ...view, openAlarms: view.openAlarms.filter((_, j) => j !== i) }, opened: [], closed: [alarm] };
}
