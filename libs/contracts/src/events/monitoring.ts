import { Type } from '@sinclair/typebox';
import { defineEvent, type EventOf } from '../catalogue';
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
export type AlarmAcknowledged = EventOf<typeof AlarmAcknowledgedV1>;
