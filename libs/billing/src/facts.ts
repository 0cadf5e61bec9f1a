/**
 * What the billing rules know beside the session: the tariff catalogue (versions, assignments) and the
 * registry's facts about the station and the token, as the tariff service's projections hold them, and the
 * service's settings (the CPO, the default time zone, the rounding rule). Plain data: the service reads them,
 * the rules only look at them.
 */
import {
  answeredToken,
  type OcpiTariffDocument,
  type RegistryEvse,
  type SessionStation,
  type StationLocation,
  type TokenAsAnswered,
} from '@csms/contracts';
import type { RoundingMode } from '@csms/money';
import type { TariffAssignment, TariffVersionRef } from './select-tariff';
import type { MeterKeyFact, SignaturePolicyFact } from './signed-data';

/** A published tariff version as the catalogue keeps it: the OCPI Tariff object and its content hash. */
export interface StoredVersion extends TariffVersionRef {
  contentHash: string;
  tariff: OcpiTariffDocument;
}

/** What the registry copy knows of a station: site, time zone, location (null: none) and EVSEs with connector types. */
export interface StationFacts {
  siteId: string | null;
  timeZone: string;
  location: StationLocation | null;
  evses: RegistryEvse[];
}

/** What the registry copy knows of a token (registry.token_registered): its group and the billing account that pays. */
export interface TokenFacts {
  groupId: string | null;
  accountId: string | null;
}

/** The catalogue and registry facts one session is priced with. */
export interface PricingFacts {
  /** undefined: the registry does not know the station */
  station?: StationFacts;
  /** undefined: the session has no token, or the registry does not know it */
  token?: TokenFacts;
  assignments: readonly TariffAssignment[];
  versions: readonly StoredVersion[];
  cpo: { countryCode: string; partyId: string };
  defaultTimeZone: string;
  rounding: RoundingMode;
  /** the meter keys operators confirmed (`meter.key_set`); absent: none */
  meterKeys?: readonly MeterKeyFact[];
  /** the signed-meter-value policies (`meter.signature_policy_set`); absent: the default (flag, trust no station key) */
  signaturePolicies?: readonly SignaturePolicyFact[];
}

/**
 * The token facts a session is priced and billed with: what the gateway's registry said when the gateway answered
 * the station with the token (recorded on the inbound record and carried on the session's id token), else — for a
 * session made from records of before that was recorded, or whose token the registry did not know then — the tariff
 * service's copy of the registry. The recorded facts make the result independent of when the copy learnt of a
 * registration or a change: a token moved to another billing account afterwards, or registered a moment before its
 * first use, bills the same live and in a rebuild (a compacted registry topic keeps only each token's latest record).
 */
export function sessionTokenFacts(
  idToken: { registry?: TokenAsAnswered } | undefined,
  copy: TokenFacts | undefined,
): TokenFacts | undefined {
  // not recorded, or not known to the gateway's registry then (e.g. a remote start's one-time token, accepted by its
  // grant before the registry record reached the gateway): the copy, which learns of it later
  const r = answeredToken(idToken);
  if (r === undefined) return copy;
  return { groupId: r.groupId, accountId: r.billingAccountId };
}

/**
 * The station facts a session is priced and described with: what the gateway's registry said of the station when the
 * gateway answered the start (carried on the session events, with the session's EVSE), else — for a session made from
 * records of before that was recorded, or whose station the registry did not know then — the tariff service's copy.
 * A station moved to another site, given another time zone or address after the session, then prices and describes
 * it the same live and in a rebuild (the compacted registry topic keeps only each station's latest record).
 */
export function sessionStationFacts(
  recorded: SessionStation | undefined,
  copy: StationFacts | undefined,
): StationFacts | undefined {
  if (recorded === undefined) return copy;
  return { siteId: recorded.siteId, timeZone: recorded.timeZone, location: recorded.location, evses: recorded.evses };
}
