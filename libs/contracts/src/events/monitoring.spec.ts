import {
  AlarmAcknowledgedV1,
  AlarmAcknowledgedV2,
  EventCatalogue,
  deriveId,
  systemCatalogue,
  type Envelope,
} from '../index';
import { contractError, specEnvelope } from './spec-helpers';

const catalogue = systemCatalogue();

function envelope(version: number, payload: unknown): Envelope {
  return specEnvelope('monitoring.alarm_acknowledged', version, payload, {
    key: 'CP-001',
    source: 'reporting-service',
    id: deriveId('alarm-acknowledged', AlarmAcknowledgedV1.example.alarmId),
    occurredAt: '2026-03-01T10:15:00.000Z',
  });
}

describe('monitoring.alarm_acknowledged v1 -> v2 (the role of the key)', () => {
  it('reads a v1 record as v2 with no role, keeping who (api-key:<name>) exactly as it was', () => {
    const env = catalogue.decode(JSON.stringify(envelope(1, AlarmAcknowledgedV1.example)));
    expect(env.version).toBe(2);
    expect(env.payload).toEqual({ ...AlarmAcknowledgedV1.example, acknowledgedByRole: null });
  });

  it('reads a v2 record as it is', () => {
    const v2 = envelope(2, AlarmAcknowledgedV2.example);
    expect(catalogue.parse(v2)).toEqual(v2);
  });

  it.each([
    ['a role that does not exist', { acknowledgedByRole: 'root' }, '/payload/acknowledgedByRole'],
    ['no role field at all', { acknowledgedByRole: undefined }, '/payload/acknowledgedByRole'],
    ['the key hash beside it', { keyHash: 'ab'.repeat(32) }, '/payload/keyHash'],
  ])('refuses %s', (_what, change, field) => {
    const payload = JSON.parse(JSON.stringify({ ...AlarmAcknowledgedV2.example, ...change })) as unknown;
    const e = contractError(() => catalogue.parse(envelope(2, payload)));
    expect(e.code).toBe('INVALID_PAYLOAD');
    expect(e.field).toBe(field);
  });

  it('a reader of v1 only (closed schema) refuses the role in v1 and does not know v2: hence a new version', () => {
    const v1Only = new EventCatalogue([AlarmAcknowledgedV1]);
    expect(contractError(() => v1Only.check(envelope(1, AlarmAcknowledgedV2.example))).field).toBe(
      '/payload/acknowledgedByRole',
    );
    expect(contractError(() => v1Only.check(envelope(2, AlarmAcknowledgedV2.example))).code).toBe(
      'UNKNOWN_EVENT_VERSION',
    );
  });
});
