import { Type } from '@sinclair/typebox';
import { defineEvent, type EventOf, type Upcaster } from '../catalogue';
import { closed } from '../envelope';
import { Topics } from '../topics';

/**
 * An operator acknowledged an open alarm (topic monitoring.events, key = station id). Operator decisions are
 * facts like the chargers' messages: the reporting service's alarm read model is rebuilt from ocpp.inbound AND
 * this topic, so a rebuild does not reopen acknowledged alarms. One acknowledgement per alarm: the event id is
 * derived from the alarm id.
 */
export const AlarmAcknowledgedV1 = defineEvent({
  type: 'monitoring.alarm_acknowledged',
  version: 1,
  topic: Topics.monitoringEvents,
  description: 'an operator acknowledged (and so closed) an open alarm',
  schema: closed({
    alarmId: Type.String({ format: 'uuid' }),
    stationId: Type.String({ minLength: 1, maxLength: 255 }),
    acknowledgedAt: Type.String({ format: 'date-time' }),
    /** who: `api-key:<name>` */
    acknowledgedBy: Type.String({ minLength: 1, maxLength: 200 }),
  }),
  example: {
    alarmId: '6c1f8a3e-2b4d-5e6f-8a9b-0c1d2e3f4a5b',
    stationId: 'CP-001',
    acknowledgedAt: '2026-03-01T10:15:00.000Z',
    acknowledgedBy: 'api-key:ops-console',
  },
});

/**
 * v2: the same, and the role of the API key that acknowledged (`acknowledgedByRole`; `acknowledgedBy` stays
 * `api-key:<name>`). Null only in records written before v2 (upcast from v1).
 */
export const AlarmAcknowledgedV2 = defineEvent({
  type: 'monitoring.alarm_acknowledged',
  version: 2,
  topic: Topics.monitoringEvents,
  description: 'an operator acknowledged (and so closed) an open alarm, with the role of the API key',
  schema: closed({
    ...AlarmAcknowledgedV1.schema.properties,
    acknowledgedByRole: Type.Union([
      Type.Literal('operator'),
      Type.Literal('finance'),
      Type.Literal('integration'),
      Type.Literal('admin'),
      Type.Null(),
    ]),
  }),
  example: { ...AlarmAcknowledgedV1.example, acknowledgedByRole: 'operator' },
});
export type AlarmAcknowledged = EventOf<typeof AlarmAcknowledgedV2>;

/** v1 -> v2: the role was not recorded then (`acknowledgedByRole: null`); `acknowledgedBy` is kept as it was. */
export const alarmAcknowledgedV1ToV2: Upcaster = {
  type: AlarmAcknowledgedV2.type,
  fromVersion: 1,
  up: (payload) => ({ ...(payload as object), acknowledgedByRole: null }),
};

/**
 * An operator declared planned maintenance of a station or one of its EVSEs (topic monitoring.events, key =
 * station id). Outage time inside the window is excluded time in the uptime report (23 CFR 680.116(b) lets
 * planned maintenance be excluded). `evseId` null: the whole station. One declaration per `maintenanceId`
 * (the event id is derived from it); a declaration is never edited.
 */
export const MaintenanceDeclaredV1 = defineEvent({
  type: 'monitoring.maintenance_declared',
  version: 1,
  topic: Topics.monitoringEvents,
  description: 'an operator declared a planned maintenance window of a station or EVSE (excluded from outage time)',
  schema: closed({
    maintenanceId: Type.String({ format: 'uuid' }),
    stationId: Type.String({ minLength: 1, maxLength: 255 }),
    /** the EVSE (OCPP 2.0.1 EVSE id, OCPP 1.6 connector id); null: every EVSE of the station */
    evseId: Type.Union([Type.Integer({ minimum: 1, maximum: 1000 }), Type.Null()]),
    from: Type.String({ format: 'date-time' }),
    to: Type.String({ format: 'date-time' }),
    reason: Type.String({ minLength: 1, maxLength: 500 }),
    declaredAt: Type.String({ format: 'date-time' }),
    /** who: `api-key:<name>` */
    declaredBy: Type.String({ minLength: 1, maxLength: 200 }),
    declaredByRole: Type.Union([
      Type.Literal('operator'),
      Type.Literal('finance'),
      Type.Literal('integration'),
      Type.Literal('admin'),
    ]),
  }),
  example: {
    maintenanceId: '3d6f0a4e-8c1b-5d2e-9f3a-4b5c6d7e8f90',
    stationId: 'CP-001',
    evseId: 1,
    from: '2026-03-02T06:00:00.000Z',
    to: '2026-03-02T08:00:00.000Z',
    reason: 'connector replacement',
    declaredAt: '2026-03-01T10:15:00.000Z',
    declaredBy: 'api-key:ops-console',
    declaredByRole: 'operator',
  },
});
export type MaintenanceDeclared = EventOf<typeof MaintenanceDeclaredV1>;
