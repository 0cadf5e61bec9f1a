/**
 * The write rules of the meter key registry and the signed-meter-value policies, as a decider: an operator
 * confirms (or revokes) the public key of a station's meter (per EVSE, or EVSE 0 for the whole station) from
 * `validFrom`, never in the past (a key confirmed later never changes a CDR already issued, so a replay gives
 * the same CDRs); the key must be one libs/ocmf can read on an OCMF curve. Writes are numbered in the order
 * they are made (`sequence`) and carry who made them. `now` is the request's time, an input.
 */
import {
  MeterKeySetV1,
  SignaturePolicySetV1,
  deriveId,
  type EventCatalogue,
  type MeterKeySet,
  type SignaturePolicySet,
  type TariffVersionPublished,
} from '@csms/contracts';
import { DomainError, type Decider } from '@csms/kernel';
import { CURVES, decodeKeyText, keyForCurve, type OcmfCurve } from '@csms/ocmf';
import { BACKDATE_TOLERANCE_MS } from './catalogue-decider';
import type { SignaturePolicyFact } from './signed-data';

type Writer = NonNullable<TariffVersionPublished['payload']['publishedBy']>;

export interface SetMeterKey {
  type: 'SetMeterKey';
  stationId: string;
  /** 0: every EVSE of the station */
  evseId: number;
  publicKey: string;
  meterSerial: string | null;
  /** RFC 3339; absent: now */
  validFrom?: string;
  revoked: boolean;
  now: string;
  by: Writer;
}

export interface SetSignaturePolicy {
  type: 'SetSignaturePolicy';
  scope: SignaturePolicyFact['scope'];
  invalidSignature: 'flag' | 'block';
  trustStationKeys: boolean;
  now: string;
  by: Writer;
}

export type MeterKeyCommand = SetMeterKey | SetSignaturePolicy;
export type MeterKeyEvent = MeterKeySet | SignaturePolicySet;

export interface MeterKeyState {
  lastKeySequence: number;
  lastPolicySequence: number;
}

export type MeterKeyErrorCode = 'RETROACTIVE_CHANGE' | 'METER_KEY_UNREADABLE';

/** A write the rules refuse: a stable code and the command field at fault; never retriable. */
export class MeterKeyError extends DomainError<MeterKeyErrorCode> {
  declare readonly field: 'validFrom' | 'publicKey';
  constructor(code: MeterKeyErrorCode, field: 'validFrom' | 'publicKey', message: string) {
    super(code, message, { field });
  }
}

/** The OCMF curve the key text is a public key on, or the reason it is none. */
export function curveOfKeyText(text: string): { ok: true; curve: OcmfCurve } | { ok: false; detail: string } {
  const decoded = decodeKeyText(text);
  if (!decoded.ok) return { ok: false, detail: decoded.detail };
  for (const curve of Object.keys(CURVES) as OcmfCurve[]) {
    if (keyForCurve(decoded.bytes, curve).ok) return { ok: true, curve };
  }
  return { ok: false, detail: 'the key is no public key on an OCMF curve (SubjectPublicKeyInfo or a curve point)' };
}

export function meterKeyDecider(cfg: {
  catalogue: EventCatalogue;
  source: string;
}): Decider<MeterKeyCommand, MeterKeyEvent, MeterKeyState> {
  const { catalogue, source } = cfg;
  return {
    initialState: () => ({ lastKeySequence: 0, lastPolicySequence: 0 }),

    decide(cmd, state) {
      const at = new Date(Date.parse(cmd.now)).toISOString();
      if (cmd.type === 'SetSignaturePolicy') {
        const sequence = state.lastPolicySequence + 1;
        return [
          catalogue.create(SignaturePolicySetV1, {
            id: deriveId('signature-policy-set', sequence),
            key: 'signature-policy',
            occurredAt: at,
            source,
            payload: {
              scope: cmd.scope,
              invalidSignature: cmd.invalidSignature,
              trustStationKeys: cmd.trustStationKeys,
              sequence,
              setAt: at,
              setBy: cmd.by,
            },
          }),
        ];
      }
      let validFrom = at;
      if (cmd.validFrom !== undefined) {
        const t = Date.parse(cmd.validFrom);
        if (t < Date.parse(cmd.now) - BACKDATE_TOLERANCE_MS)
          throw new MeterKeyError(
            'RETROACTIVE_CHANGE',
            'validFrom',
            `${cmd.validFrom} is in the past: a key confirmed now never changes a CDR already issued (check past CDRs with their transparency export)`,
          );
        validFrom = new Date(t).toISOString();
      }
      const readable = curveOfKeyText(cmd.publicKey);
      if (!readable.ok) throw new MeterKeyError('METER_KEY_UNREADABLE', 'publicKey', readable.detail);
      const sequence = state.lastKeySequence + 1;
      return [
        catalogue.create(MeterKeySetV1, {
          id: deriveId('meter-key-set', sequence),
          key: cmd.stationId,
          occurredAt: at,
          source,
          payload: {
            keyId: deriveId('meter-key', cmd.stationId, cmd.evseId, sequence),
            stationId: cmd.stationId,
            evseId: cmd.evseId,
            publicKey: cmd.publicKey.trim(),
            meterSerial: cmd.meterSerial,
            validFrom,
            status: cmd.revoked ? 'revoked' : 'confirmed',
            sequence,
            setAt: at,
            setBy: cmd.by,
          },
        }),
      ];
    },

    evolve(state, event) {
      if (event.type === MeterKeySetV1.type)
        return { ...state, lastKeySequence: Math.max(state.lastKeySequence, (event as MeterKeySet).payload.sequence) };
      return {
        ...state,
        lastPolicySequence: Math.max(state.lastPolicySequence, (event as SignaturePolicySet).payload.sequence),
      };
    },
  };
}
