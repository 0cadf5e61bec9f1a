/**
 * Pure: the signed meter values of an ended session → the CDR's OCPI `signed_data` and the audit's
 * `signedMeterValues` section. Each value is verified with libs/ocmf (ECDSA over the exact signed bytes) with
 * the key the operator confirmed for the meter (the registry, `meter.key_set`), or the key the station sent
 * when the policy trusts station keys; then the pairing checks over them (one meter, begin and end of one
 * register, monotone, one identification, the session's own identification, the registered meter serial) and
 * the signed energy (end − begin) compared with the billed energy, within the meter's resolution.
 *
 * Which policy applies (`meter.signature_policy_set`: station, else site, else default; default: price with
 * a flag, trust no station key) says whether a FAILED check blocks pricing.
 */
import { createHash } from 'node:crypto';
import { SIGNED_DATA_FLAGS, type CdrSignedAudit, type CdrSignedData, type SessionEndedEvent } from '@csms/contracts';
import { Dec, toPlainString } from '@csms/kernel';
import {
  checkSession,
  compareBilledEnergy,
  decodeBase64,
  verifyOcmf,
  verifySignedMeterValue,
  type KeyCache,
  type VerificationResult,
} from '@csms/ocmf';

type SessionEndedPayload = SessionEndedEvent['payload'];
type SignedValue = SessionEndedPayload['signedMeterValues'][number];
type Flag = (typeof SIGNED_DATA_FLAGS)[number];

/** A meter key as the registry (`meter.key_set`) holds it. */
export interface MeterKeyFact {
  keyId: string;
  stationId: string;
  /** 0: every EVSE of the station */
  evseId: number;
  publicKey: string;
  meterSerial: string | null;
  validFrom: string;
  status: 'confirmed' | 'revoked';
  sequence: number;
}

/** A signed-meter-value policy (`meter.signature_policy_set`). */
export interface SignaturePolicyFact {
  scope: { kind: 'default' } | { kind: 'site'; siteId: string } | { kind: 'station'; stationId: string };
  invalidSignature: 'flag' | 'block';
  trustStationKeys: boolean;
  sequence: number;
}

export type AppliedPolicy = CdrSignedAudit['policy'];

/** The pricing failure code of a session whose signed meter values FAILED under a `block` policy. */
export const SIGNED_METER_VALUES_FAILED = 'SIGNED_METER_VALUES_FAILED';

/** Flags that make the result FAILED (the signed values contradict the bill or each other). */
const FAILING: ReadonlySet<Flag> = new Set<Flag>([
  'SIGNATURE_INVALID',
  'SIGNED_DATA_MALFORMED',
  'PAIRING_FAILED',
  'SIGNED_ENERGY_MISMATCH',
  'METER_NOT_REGISTERED',
]);
/** Flags that leave the result UNVERIFIED (nothing contradicts, but nothing was proven). */
const UNPROVEN: ReadonlySet<Flag> = new Set<Flag>(['NO_TRUSTED_KEY', 'SIGNATURE_UNSUPPORTED']);

/** OCPI SignedValue.signed_data is at most 5000 characters (base64); a larger value is checked but not carried. */
const MAX_SIGNED_DATA = 5000;
const MAX_PUBLIC_KEY = 512;

/** The policy for a station: its own, else its site's, else the default; the latest of a scope (by sequence). */
export function policyFor(
  policies: readonly SignaturePolicyFact[],
  stationId: string,
  siteId: string | null | undefined,
): AppliedPolicy {
  const latest = (match: (p: SignaturePolicyFact) => boolean) =>
    policies
      .filter(match)
      .reduce<SignaturePolicyFact | undefined>((a, p) => (a && a.sequence > p.sequence ? a : p), undefined);
  const station = latest((p) => p.scope.kind === 'station' && p.scope.stationId === stationId);
  const site = siteId ? latest((p) => p.scope.kind === 'site' && p.scope.siteId === siteId) : undefined;
  const def = latest((p) => p.scope.kind === 'default');
  const chosen = station ?? site ?? def;
  if (!chosen) return { invalidSignature: 'flag', trustStationKeys: false, scope: 'default', sequence: null };
  return {
    invalidSignature: chosen.invalidSignature,
    trustStationKeys: chosen.trustStationKeys,
    scope: chosen.scope.kind,
    sequence: chosen.sequence,
  };
}

/**
 * The key the registry holds for the session's meter: of the session's EVSE (else of the whole station, EVSE 0),
 * the latest write (by sequence) with validFrom at or before the session's start; a revoked latest write means none.
 */
export function meterKeyFor(keys: readonly MeterKeyFact[], s: SessionEndedPayload): MeterKeyFact | undefined {
  const evse = s.evseId ?? s.connectorId ?? 1;
  const startMs = Date.parse(s.startedAt);
  for (const e of [evse, 0]) {
    const candidates = keys.filter(
      (k) => k.stationId === s.stationId && k.evseId === e && Date.parse(k.validFrom) <= startMs,
    );
    if (candidates.length === 0) continue;
    const latest = candidates.reduce((a, k) => (a.sequence > k.sequence ? a : k));
    return latest.status === 'confirmed' ? latest : undefined;
  }
  return undefined;
}

/** The bytes of a signed value as it is carried (OCPI signed_data: base64 of them) and verified. */
function bytesOf(v: SignedValue): { base64: string; text: string | null } {
  if (v.signed.format === 'ocpp2.0.1-signedMeterValue') {
    const b = decodeBase64(v.signed.signedMeterData.replace(/\s+/g, ''));
    return {
      base64: v.signed.signedMeterData,
      text: b ? Buffer.from(b).toString('utf8') : null,
    };
  }
  // OCPP 1.6 SignedData: the OCMF text itself (OCA "Signed Meter Values in OCPP 1.6"); some stations send it base64
  const data = v.signed.data;
  if (!data.startsWith('OCMF|') && /^[A-Za-z0-9+/]+={0,2}$/.test(data)) {
    const b = decodeBase64(data);
    if (b && Buffer.from(b).toString('utf8').startsWith('OCMF|'))
      return { base64: data, text: Buffer.from(b).toString('utf8') };
  }
  return { base64: Buffer.from(data, 'utf8').toString('base64'), text: data };
}

function verifyValue(v: SignedValue, key: string | null, keys: KeyCache | undefined): VerificationResult {
  const options = keys ? { keys } : {};
  if (v.signed.format === 'ocpp2.0.1-signedMeterValue') return verifySignedMeterValue(v.signed, key, options);
  const { text } = bytesOf(v);
  return verifyOcmf(text ?? v.signed.data, key, options);
}

/** OCPI nature of a value: Start / End from the OCMF transaction codes (B / E), else from the OCPP context. */
function natureOf(v: SignedValue, r: VerificationResult): string {
  const tx = r.record?.payload.RD.map((x) => x.TX) ?? [];
  if (tx.includes('E')) return 'End';
  if (tx.includes('B')) return 'Start';
  if (v.context === 'Transaction.Begin') return 'Start';
  if (v.context === 'Transaction.End') return 'End';
  return 'Intermediate';
}

/** OCPI plain_data: the readings as the meter wrote them (`B 2935.600 kWh 2021-…`), at most 512 characters. */
function plainOf(r: VerificationResult): string {
  const readings = r.record?.payload.RD ?? [];
  return readings
    .map((x) => [x.TX, x.RV?.text.trim(), x.RU, x.TM].filter((f) => f !== undefined && f !== '').join(' '))
    .join('; ')
    .slice(0, 512);
}

const cut = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

/** The station-sent key (OCPP 2.0.1 publicKey) of the session's values, the first non-empty one. */
function stationKeyOf(values: readonly SignedValue[]): string | null {
  for (const v of values)
    if (v.signed.format === 'ocpp2.0.1-signedMeterValue' && v.signed.publicKey !== '') return v.signed.publicKey;
  return null;
}

/**
 * OCMF identification types whose `ID` is the token a session is authorised with (an RFID UID, an eMAID), compared
 * with the session's token ignoring case and separators (`:`, `-`, spaces); other types (NONE, LOCAL, CENTRAL,
 * PHONE_NUMBER, …) and an empty ID are not compared (the check passes and says so).
 */
const TOKEN_ID_TYPES: ReadonlySet<string> = new Set(['ISO14443', 'ISO15693', 'EMAID']);
const canonicalId = (id: string) => id.replace(/[\s:-]/g, '').toUpperCase();

function sessionIdentification(
  results: readonly VerificationResult[],
  token: string | undefined,
): { name: string; passed: boolean; detail: string } {
  const name = 'SESSION_IDENTIFICATION';
  const named = results.flatMap((r) => {
    const p = r.record?.payload;
    return p?.ID !== undefined && p.ID.trim() !== '' && p.IT !== undefined && TOKEN_ID_TYPES.has(p.IT) ? [p.ID] : [];
  });
  const ids = [...new Set(named)];
  if (token === undefined) return { name, passed: true, detail: 'the session has no token to compare' };
  if (ids.length === 0)
    return {
      name,
      passed: true,
      detail: 'the records name no token identification (ID of type ISO14443, ISO15693, EMAID)',
    };
  const passed = ids.every((id) => canonicalId(id) === canonicalId(token));
  return {
    name,
    passed,
    detail: `records name ${ids.map((x) => JSON.stringify(x)).join(', ')}; the session's token is ${JSON.stringify(token)}`,
  };
}

export interface SignedDataOutcome {
  /** OCPI SignedData for the CDR */
  cdr: CdrSignedData;
  audit: CdrSignedAudit;
  /** the policy blocks pricing: the failure to record instead of the CDR */
  block?: { code: string; detail: string };
}

/**
 * The signed meter values of `s` checked against the billed energy (`billedKwh`, the CDR's total_energy);
 * undefined when the session had none (its CDR is then exactly as before).
 */
export function checkSignedMeterValues(
  s: SessionEndedPayload,
  billedKwh: string,
  facts: { keys: readonly MeterKeyFact[]; policies: readonly SignaturePolicyFact[]; siteId: string | null | undefined },
  opts: {
    /** verification keys already built (the billing decider keeps one per decider) */ keyCache?: KeyCache;
  } = {},
): SignedDataOutcome | undefined {
  const values = s.signedMeterValues;
  if (values.length === 0 && s.signedMeterValuesOmitted === 0) return undefined;
  const policy = policyFor(facts.policies, s.stationId, facts.siteId);
  const registered = meterKeyFor(facts.keys, s);
  const stationKey = stationKeyOf(values);
  const key = registered
    ? { source: 'registry' as const, keyId: registered.keyId, publicKey: registered.publicKey }
    : policy.trustStationKeys && stationKey !== null
      ? { source: 'station' as const, keyId: null, publicKey: stationKey }
      : { source: 'none' as const, keyId: null, publicKey: null };

  const results = values.map((v) => verifyValue(v, key.publicKey, opts.keyCache));
  const flags = new Set<Flag>();
  if (s.signedMeterValuesOmitted > 0) flags.add('SIGNED_VALUES_OMITTED');
  for (const r of results) {
    if (r.status === 'INVALID') flags.add('SIGNATURE_INVALID');
    if (r.status === 'MALFORMED') flags.add('SIGNED_DATA_MALFORMED');
    if (r.status === 'NO_KEY') flags.add('NO_TRUSTED_KEY');
    if (r.status === 'UNSUPPORTED') flags.add('SIGNATURE_UNSUPPORTED');
  }

  const session = checkSession(results);
  const checks: Array<{ name: string; passed: boolean; detail: string }> = [...session.checks];
  checks.push(sessionIdentification(results, s.idToken?.idToken));
  if (registered?.meterSerial) {
    const serials = [...new Set(results.flatMap((r) => (r.record ? [r.record.payload.MS ?? '(none)'] : [])))];
    const ok = serials.length > 0 && serials.every((m) => m === registered.meterSerial);
    checks.push({
      name: 'METER_SERIAL_REGISTERED',
      passed: ok,
      detail: `registered meter ${JSON.stringify(registered.meterSerial)}; records name ${serials.map((x) => JSON.stringify(x)).join(', ') || 'none'}`,
    });
    if (!ok) flags.add('METER_NOT_REGISTERED');
  }
  // every check but ALL_VALID (the statuses above say that) is a pairing check
  if (checks.some((c) => !c.passed && c.name !== 'ALL_VALID' && c.name !== 'METER_SERIAL_REGISTERED'))
    flags.add('PAIRING_FAILED');

  let energy: CdrSignedAudit['energy'] = null;
  if (session.energy) {
    const billedWh = toPlainString(new Dec(billedKwh).times(1000));
    const cmp = compareBilledEnergy(session.energy, billedWh);
    energy = {
      signedWh: session.energy.wh,
      billedWh,
      differenceWh: cmp.differenceWh,
      toleranceWh: cmp.toleranceWh,
      result: cmp.result,
    };
    if (cmp.result === 'mismatch') flags.add('SIGNED_ENERGY_MISMATCH');
  }

  const signedValues: CdrSignedData['signed_values'] = [];
  values.forEach((v, i) => {
    const { base64 } = bytesOf(v);
    if (base64.length > MAX_SIGNED_DATA) {
      flags.add('SIGNED_VALUE_TOO_LARGE');
      return;
    }
    signedValues.push({ nature: natureOf(v, results[i]), plain_data: plainOf(results[i]), signed_data: base64 });
  });

  const ordered = SIGNED_DATA_FLAGS.filter((f) => flags.has(f));
  const result: CdrSignedAudit['result'] = ordered.some((f) => FAILING.has(f))
    ? 'FAILED'
    : ordered.some((f) => UNPROVEN.has(f)) || results.length === 0
      ? 'UNVERIFIED'
      : 'VERIFIED';

  const audit: CdrSignedAudit = {
    result,
    flags: ordered,
    policy,
    key: {
      source: key.source,
      keyId: key.keyId,
      publicKey: key.publicKey === null ? null : cut(key.publicKey, 1024),
      stationKey: stationKey === null ? null : cut(stationKey, 1024),
    },
    values: values.map((v, i) => {
      const r = results[i];
      return {
        at: v.at,
        context: cut(v.context, 40),
        nature: natureOf(v, r),
        status: r.status,
        reason: r.reason,
        detail: cut(r.detail, 300),
        curve: r.curve,
        meterSerial: r.record?.payload.MS === undefined ? null : cut(r.record.payload.MS, 64),
        payloadSha256: r.record ? createHash('sha256').update(r.record.signedBytes).digest('hex') : null,
      };
    }),
    checks: checks.map((c) => ({ name: c.name, passed: c.passed, detail: cut(c.detail, 300) })),
    energy,
    omitted: s.signedMeterValuesOmitted,
  };
  const cdr: CdrSignedData = {
    encoding_method: 'OCMF',
    ...(key.publicKey !== null && key.publicKey.length <= MAX_PUBLIC_KEY ? { public_key: key.publicKey } : {}),
    signed_values: signedValues,
  };
  const block =
    result === 'FAILED' && policy.invalidSignature === 'block'
      ? {
          code: SIGNED_METER_VALUES_FAILED,
          detail: `the signed meter values failed their check (${ordered.filter((f) => FAILING.has(f)).join(', ')}) and the ${policy.scope} policy blocks pricing`,
        }
      : undefined;
  return { cdr, audit, ...(block ? { block } : {}) };
}
