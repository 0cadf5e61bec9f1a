import { Type } from '@sinclair/typebox';
import { defineEvent, type EventOf } from '../catalogue';
import { closed } from '../envelope';
import { Topics } from '../topics';
import { WriterSchema } from './tariff';

const Instant = Type.String({ format: 'date-time' });
const StationId = Type.String({ minLength: 1, maxLength: 48 });

/**
 * An operator set (or revoked) the public key of a station's meter: the key signed meter values of the
 * station's EVSE (`evseId` 0: every EVSE of the station) are verified with, for sessions starting at or after
 * `validFrom`. On tariff.events (kept forever) beside the catalogue it serves: a CDR verified with a key
 * can be re-checked with the same key after a replay, also once the meter was exchanged.
 */
export const MeterKeySetV1 = defineEvent({
  type: 'meter.key_set',
  version: 1,
  topic: Topics.tariffEvents,
  description: "a meter's public key was confirmed (or revoked) by an operator, for a station or one of its EVSEs",
  schema: closed({
    keyId: Type.String({ minLength: 1, maxLength: 64 }),
    stationId: StationId,
    evseId: Type.Integer({ minimum: 0 }),
    /** as the operator gave it: hex or base64 of SubjectPublicKeyInfo or of the curve point, or OCA-wrapped (libs/ocmf reads them) */
    publicKey: Type.String({ minLength: 1, maxLength: 1024 }),
    /** the meter's serial (OCMF `MS`) when the operator gave it: the signed values must name it */
    meterSerial: Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Null()]),
    validFrom: Instant,
    status: Type.Union([Type.Literal('confirmed'), Type.Literal('revoked')]),
    /** order of key writes, assigned when set: ties of validFrom go to the later one */
    sequence: Type.Integer({ minimum: 1 }),
    setAt: Instant,
    setBy: WriterSchema,
  }),
  example: {
    keyId: '0f6f4b7e-4a53-5d5f-9f5e-0c1d2e3f4a5b',
    stationId: 'CP-001',
    evseId: 1,
    publicKey:
      '3059301306072A8648CE3D020106082A8648CE3D030107034200043AEEB45C392357820A58FDFB0857BD77ADA31585C61C430531DFA53B440AFBFDD95AC887C658EA55260F808F55CA948DF235C2108A0D6DC7D4AB1A5E1A7955BE',
    meterSerial: '0901454D4800007F9F3E',
    validFrom: '2026-03-01T00:00:00Z',
    status: 'confirmed',
    sequence: 1,
    setAt: '2026-02-28T09:00:00Z',
    setBy: { keyName: 'ops-team', role: 'operator' },
  },
});

export const SIGNATURE_POLICY_SCOPES = ['default', 'site', 'station'] as const;

/**
 * What a failed check of signed meter values means for pricing, per site, station or as the default: `flag`
 * prices the CDR and says so in its audit, `block` records a session.pricing_failed instead
 * (SIGNED_METER_VALUES_FAILED); and whether a key the station sends itself is trusted (by default it is only
 * recorded: an operator confirms keys).
 */
export const SignaturePolicySetV1 = defineEvent({
  type: 'meter.signature_policy_set',
  version: 1,
  topic: Topics.tariffEvents,
  description: 'the signed-meter-value policy of a site, a station or the default was set',
  schema: closed({
    scope: Type.Union([
      closed({ kind: Type.Literal('default') }),
      closed({ kind: Type.Literal('site'), siteId: Type.String({ minLength: 1, maxLength: 100 }) }),
      closed({ kind: Type.Literal('station'), stationId: StationId }),
    ]),
    invalidSignature: Type.Union([Type.Literal('flag'), Type.Literal('block')]),
    trustStationKeys: Type.Boolean(),
    sequence: Type.Integer({ minimum: 1 }),
    setAt: Instant,
    setBy: WriterSchema,
  }),
  example: {
    scope: { kind: 'site', siteId: 'site-amsterdam-1' },
    invalidSignature: 'block',
    trustStationKeys: false,
    sequence: 1,
    setAt: '2026-02-28T09:00:00Z',
    setBy: { keyName: 'ops-team', role: 'operator' },
  },
});

export type MeterKeySet = EventOf<typeof MeterKeySetV1>;
export type SignaturePolicySet = EventOf<typeof SignaturePolicySetV1>;
