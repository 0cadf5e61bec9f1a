import { deriveId } from '@csms/contracts';
import { OCPP_DATE_TIME, parseInstant, toIsoString } from '@csms/kernel';

/** What makes two OCPP 1.6 StartTransaction requests the same transaction (a retry). */
export interface StartTransactionIdentity {
  stationId: string;
  connectorId: number;
  idTag: string;
  timestamp: string;
  meterStart: number;
}

/**
 * The name-based id of a StartTransaction: a retry (same station, connector, idTag, timestamp, meterStart)
 * has the same identity and so gets the same transactionId back. The timestamp is compared as an instant
 * (`...:00Z` and `...:00.000Z` are the same start), read by the normaliser's rules (a timestamp without offset
 * is UTC, never the process's time zone); an unparseable one is kept verbatim.
 */
export function startTransactionIdentity(s: StartTransactionIdentity): string {
  const t = parseInstant(s.timestamp, OCPP_DATE_TIME);
  const instant = t.ok ? toIsoString(t.epochMs) : s.timestamp;
  return deriveId('ocpp16.start_transaction', s.stationId, s.connectorId, s.idTag, instant, s.meterStart);
}

/** OCPP 1.6 transactionId is an `integer`: the gateway keeps it in the signed 32-bit range. */
export const MAX_TRANSACTION_ID = 2_147_483_647;

export function isValidTransactionId(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= MAX_TRANSACTION_ID;
}
