import type { StationAsAnswered } from '@csms/contracts';

/** The registry as the gateway holds it in memory (fed by the compacted registry topics). */

export type SecurityProfile = 1 | 2 | 3;

export interface ConnectorInfo {
  connectorId: number;
}
export interface EvseInfo {
  evseId: number;
  connectors: ConnectorInfo[];
}

export interface StationRecord {
  stationId: string;
  securityProfile: SecurityProfile;
  /** scrypt hash of the Basic-auth password (profiles 1 and 2), `scrypt$N$r$p$salt$hash`: from the gateway's database, never from the topic */
  passwordHash: string | null;
  /** the subject CN the client certificate must carry (profile 3); the station id when null */
  certificateCn: string | null;
  siteId: string | null;
  timeZone: string;
  /** the EVSE and connector ids (to tell a newly reported connector); the OCPI connector fields are in `answered` */
  evses: EvseInfo[];
  /** a disabled station is refused at the upgrade */
  enabled: boolean;
  /**
   * The registry's facts of the station (revision, site, time zone, location, EVSEs with their OCPI connector
   * fields as registered), recorded with a call that starts a transaction; absent: not from the registry.
   */
  answered?: StationAsAnswered;
}

export type TokenStatus = 'Accepted' | 'Blocked' | 'Expired' | 'Invalid';
export type TokenType =
  'Central' | 'eMAID' | 'ISO14443' | 'ISO15693' | 'KeyCode' | 'Local' | 'MacAddress' | 'NoAuthorization';

export interface TokenRecord {
  uid: string;
  type: TokenType;
  status: TokenStatus;
  /** RFC 3339; after it the token is Expired */
  expiresAt: string | null;
  groupId: string | null;
  billingAccountId: string | null;
  /** the token's billing account cannot pay (registry.accounts, written by the payment service): set by the registry cache */
  accountBlocked?: boolean;
  /** the registry revision of this record; absent: not from the registry (a remote start's one-time grant) */
  revision?: number;
}

/** What a station presented on the WebSocket upgrade. */
export interface UpgradeCredentials {
  /** the connection is TLS */
  tls: boolean;
  /** a client certificate that the TLS layer verified against the CA, with its subject CN */
  verifiedClientCertCn: string | null;
  basic: { username: string; password: string } | null;
}

export type UpgradeDecision =
  | { ok: true; provisional: boolean; profile: 0 | SecurityProfile }
  | { ok: false; status: 401 | 403 | 404; reason: string };

/**
 * The security profile the credentials amount to for this station (OCPP 1.6 security whitepaper §2 /
 * 2.0.1 A00): 3 = TLS with a client certificate bound to the station, 2 = TLS + Basic, 1 = Basic, 0 = none.
 * Basic: "the username SHALL be the Charge Point identity"; profile 3 binds the certificate's CN to it.
 */
export function presentedProfile(
  station: Pick<StationRecord, 'stationId' | 'passwordHash' | 'certificateCn'>,
  creds: UpgradeCredentials,
  passwordMatches: (hash: string, password: string) => boolean,
): 0 | SecurityProfile {
  if (
    creds.tls &&
    creds.verifiedClientCertCn !== null &&
    creds.verifiedClientCertCn === (station.certificateCn ?? station.stationId)
  )
    return 3;
  const basicOk =
    creds.basic !== null &&
    creds.basic.username === station.stationId &&
    station.passwordHash !== null &&
    passwordMatches(station.passwordHash, creds.basic.password);
  if (basicOk) return creds.tls ? 2 : 1;
  return 0;
}

/**
 * Whether a station may connect. Unknown stations are refused (404, OCPP-J "If the CSMS does not recognize
 * the Charging Station identifier in the URL path, it SHOULD send an HTTP response with status 404") unless
 * provisional registration is allowed. A station may not connect with a weaker profile than it is
 * registered for (a stronger one is fine).
 */
export function decideUpgrade(
  stationId: string,
  station: StationRecord | undefined,
  creds: UpgradeCredentials,
  opts: { allowProvisional: boolean; passwordMatches: (hash: string, password: string) => boolean },
): UpgradeDecision {
  if (!station) {
    if (opts.allowProvisional) return { ok: true, provisional: true, profile: 0 };
    return { ok: false, status: 404, reason: `unknown station ${stationId}` };
  }
  if (!station.enabled) return { ok: false, status: 403, reason: 'station is disabled' };
  const profile = presentedProfile(station, creds, opts.passwordMatches);
  if (profile === 0)
    return {
      ok: false,
      status: 401,
      reason: creds.basic || creds.verifiedClientCertCn ? 'invalid credentials' : 'credentials required',
    };
  if (profile < station.securityProfile) {
    return {
      ok: false,
      status: 403,
      reason: `station is registered for security profile ${station.securityProfile}, connected with profile ${profile}`,
    };
  }
  return { ok: true, provisional: false, profile };
}

/**
 * The EVSE and connector a StatusNotification reports, in the registry's 2.0.1 vocabulary. OCPP 1.6 has
 * connectors only: connector N (N > 0; 0 is the charge point itself) is EVSE N with connector 1, as the
 * OCPP 2.0.1 migration guidance maps it.
 */
export function reportedConnector(
  protocol: 'ocpp1.6' | 'ocpp2.0.1',
  action: string,
  payload: Record<string, unknown>,
): { evseId: number; connectorId: number } | null {
  if (action !== 'StatusNotification') return null;
  if (protocol === 'ocpp1.6') {
    const c = payload.connectorId;
    return typeof c === 'number' && c > 0 ? { evseId: c, connectorId: 1 } : null;
  }
  const e = payload.evseId;
  const c = payload.connectorId;
  return typeof e === 'number' && typeof c === 'number' && e > 0 && c > 0 ? { evseId: e, connectorId: c } : null;
}

/**
 * The EVSE list with a reported connector added (sorted), or null when it is already known. What else the
 * registry holds about an EVSE and its other connectors (eMI3 id, connector types) is kept as it is.
 */
export function withConnector(evses: readonly EvseInfo[], evseId: number, connectorId: number): EvseInfo[] | null {
  const evse = evses.find((e) => e.evseId === evseId);
  if (evse?.connectors.some((c) => c.connectorId === connectorId)) return null;
  const others = evses.filter((e) => e.evseId !== evseId);
  const connectors = [...(evse?.connectors ?? []), { connectorId }].sort((a, b) => a.connectorId - b.connectorId);
  return [...others, { ...evse, evseId, connectors }].sort((a, b) => a.evseId - b.evseId);
}
