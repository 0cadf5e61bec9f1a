/**
 * Pure: a session.ended payload + the catalogue + registry facts -> an OCPI 2.2.1 CDR with its audit
 * section, or an explicit pricing failure. No framework, no clock, no randomness: the same inputs give
 * byte-identical output (ids are name-based, last_updated is the session's end).
 */
import { createHash } from 'node:crypto';
import { deriveId, type SessionEndedEvent } from '@csms/contracts';
import { selectTariff, toPricingSession, type TariffAssignment } from '@csms/billing';
import { PRICING_ENGINE_VERSION, priceSession, toCanonicalJson, type OcpiTariff, type PricedCdr, type PricingOptions } from '@csms/pricing';
import type { StoredVersion } from './catalogue';

export type SessionEndedPayload = SessionEndedEvent['payload'];

export interface SourcePosition {
  eventId: string;
  topic: string;
  partition: number;
  offset: string;
}

export interface PricingContext {
  session: SessionEndedPayload;
  source: SourcePosition;
  station?: { siteId: string | null; timeZone: string };
  token?: { groupId: string | null; accountId: string | null };
  assignments: readonly TariffAssignment[];
  versions: readonly StoredVersion[];
  cpo: { countryCode: string; partyId: string };
  defaultTimeZone: string;
  rounding: NonNullable<PricingOptions['rounding']>;
}

export interface OcpiCdr {
  country_code: string;
  party_id: string;
  id: string;
  start_date_time: string;
  end_date_time: string;
  session_id: string;
  cdr_token: { country_code: string; party_id: string; uid: string; type: string; contract_id: string };
  auth_method: string;
  cdr_location: Record<string, unknown>;
  currency: string;
  tariffs: OcpiTariff[];
  charging_periods: PricedCdr['charging_periods'];
  total_cost: { excl_vat: string; incl_vat: string };
  total_fixed_cost?: { excl_vat: string; incl_vat: string };
  total_energy: string;
  total_energy_cost?: { excl_vat: string; incl_vat: string };
  total_time: string;
  total_time_cost?: { excl_vat: string; incl_vat: string };
  total_parking_time?: string;
  total_parking_cost?: { excl_vat: string; incl_vat: string };
  total_reservation_cost?: { excl_vat: string; incl_vat: string };
  remark?: string;
  credit?: boolean;
  credit_reference_id?: string;
  last_updated: string;
}

export interface CdrAudit {
  sessionId: string;
  sessionRevision: number;
  stationId: string;
  tariffId: string;
  tariffVersion: number;
  tariffContentHash: string;
  assignment: Record<string, unknown>;
  engineVersion: string;
  timeZone: string;
  timeZoneSource: 'registry' | 'default';
  sourceEvent: SourcePosition;
  inboundRecords: Array<Record<string, unknown>>;
  pricing: Record<string, unknown>;
  contentHash: string;
}

export type PricingOutcome =
  | { kind: 'priced'; cdr: OcpiCdr; audit: CdrAudit }
  | { kind: 'failed'; code: string; detail: string; field?: string };

export const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** CDR ids: 35 characters for a CDR (OCPI: at most 36), the original id + "-C" for its credit CDR. */
export function cdrIdOf(sessionId: string, revision: number): string {
  return `CDR${deriveId('cdr', sessionId, revision).replace(/-/g, '').toUpperCase()}`;
}

const TOKEN_TYPES: Record<string, string> = {
  ISO14443: 'RFID',
  ISO15693: 'RFID',
  'ocpp1.6-idTag': 'RFID',
  eMAID: 'APP_USER',
  Central: 'AD_HOC_USER',
  NoAuthorization: 'AD_HOC_USER',
};

function evseUid(s: SessionEndedPayload): string {
  return s.evseId !== undefined ? `${s.stationId}*${s.evseId}` : `${s.stationId}*${s.connectorId ?? 1}`;
}

/** Selects the tariff, prices the session and assembles the CDR. Never a free CDR: failures are explicit. */
export function buildCdr(ctx: PricingContext, draft?: { tariff: OcpiTariff }): PricingOutcome {
  const s = ctx.session;
  let chosen: { version: StoredVersion; assignment: Record<string, unknown> };
  if (draft) {
    chosen = {
      version: { tariffId: draft.tariff.id, version: 0, effectiveFrom: s.startedAt, publishedAt: s.startedAt, contentHash: sha256(toCanonicalJson(draft.tariff)), tariff: draft.tariff },
      assignment: { draft: true },
    };
  } else {
    const sel = selectTariff(ctx.assignments, ctx.versions, {
      at: s.startedAt,
      stationId: s.stationId,
      siteId: ctx.station?.siteId ?? undefined,
      evseId: s.evseId,
      connectorId: s.connectorId,
      tokenGroupId: ctx.token?.groupId ?? undefined,
      accountId: ctx.token?.accountId ?? undefined,
    });
    if (!sel.ok) return { kind: 'failed', code: sel.code, detail: sel.detail };
    const version = ctx.versions.find((v) => v.tariffId === sel.version.tariffId && v.version === sel.version.version)!;
    chosen = { version, assignment: { assignmentId: sel.assignment.assignmentId, level: sel.level, scope: sel.assignment.scope, effectiveFrom: sel.assignment.effectiveFrom } };
  }
  const tariff = chosen.version.tariff;
  const timeZone = ctx.station?.timeZone ?? ctx.defaultTimeZone;
  let priced: PricedCdr;
  try {
    const input = toPricingSession(s, { timeZone, currency: tariff.currency, tariff });
    priced = priceSession(tariff, input, { rounding: ctx.rounding });
  } catch (e) {
    const err = e as { code?: string; message?: string; field?: string };
    if (typeof err.code === 'string') return { kind: 'failed', code: err.code, detail: err.message ?? String(e), field: err.field };
    throw e;
  }
  const uid = s.idToken?.idToken ?? 'UNKNOWN';
  const cdr: OcpiCdr = {
    country_code: ctx.cpo.countryCode,
    party_id: ctx.cpo.partyId,
    id: cdrIdOf(s.sessionId, s.revision),
    start_date_time: priced.start_date_time,
    end_date_time: priced.end_date_time,
    session_id: s.sessionId,
    cdr_token: {
      country_code: ctx.cpo.countryCode,
      party_id: ctx.cpo.partyId,
      uid,
      type: s.idToken ? (TOKEN_TYPES[s.idToken.type] ?? 'OTHER') : 'OTHER',
      contract_id: ctx.token?.accountId ?? uid,
    },
    auth_method: 'WHITELIST',
    cdr_location: {
      id: ctx.station?.siteId ?? s.stationId,
      evse_uid: evseUid(s),
      evse_id: evseUid(s),
      connector_id: String(s.connectorId ?? 1),
    },
    currency: priced.currency,
    tariffs: [tariff],
    charging_periods: priced.charging_periods,
    total_cost: priced.total_cost,
    total_fixed_cost: priced.total_fixed_cost,
    total_energy: priced.total_energy,
    total_energy_cost: priced.total_energy_cost,
    total_time: priced.total_time,
    total_time_cost: priced.total_time_cost,
    total_parking_time: priced.total_parking_time,
    total_parking_cost: priced.total_parking_cost,
    total_reservation_cost: priced.total_reservation_cost,
    ...(s.dataQuality.needsReview ? { remark: `data quality: ${s.dataQuality.flags.join(', ')}`.slice(0, 255) } : {}),
    last_updated: priced.end_date_time,
  };
  const audit: CdrAudit = {
    sessionId: s.sessionId,
    sessionRevision: s.revision,
    stationId: s.stationId,
    tariffId: chosen.version.tariffId,
    tariffVersion: chosen.version.version,
    tariffContentHash: chosen.version.contentHash,
    assignment: chosen.assignment,
    engineVersion: PRICING_ENGINE_VERSION,
    timeZone,
    timeZoneSource: ctx.station ? 'registry' : 'default',
    sourceEvent: ctx.source,
    inboundRecords: s.sources as Array<Record<string, unknown>>,
    pricing: { breakdown: priced.breakdown, audit: priced.audit } as unknown as Record<string, unknown>,
    contentHash: sha256(toCanonicalJson(cdr)),
  };
  return { kind: 'priced', cdr, audit };
}

/** The credit CDR of `original` (OCPI: same data, its own id, only total_cost negated). */
export function creditCdrOf(original: OcpiCdr, audit: CdrAudit, at: string): { cdr: OcpiCdr; audit: CdrAudit } {
  const negate = (v: string) => (v.startsWith('-') ? v.slice(1) : /^0(\.0*)?$/.test(v) ? v : `-${v}`);
  const cdr: OcpiCdr = {
    ...original,
    id: `${original.id}-C`,
    total_cost: { excl_vat: negate(original.total_cost.excl_vat), incl_vat: negate(original.total_cost.incl_vat) },
    credit: true,
    credit_reference_id: original.id,
    last_updated: at,
  };
  return { cdr, audit: { ...audit, contentHash: sha256(toCanonicalJson(cdr)) } };
}
