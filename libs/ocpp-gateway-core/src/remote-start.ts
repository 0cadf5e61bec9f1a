import type { TokenRecord, TokenType } from './registry';

/**
 * The token a remote start names: `RemoteStartTransaction.idTag` (OCPP 1.6, type Central) or
 * `RequestStartTransaction.idToken` (2.0.1); null for any other action or a payload without one.
 */
export function remoteStartTokenOf(action: string, payload: unknown): { uid: string; type: TokenType } | null {
  if (typeof payload !== 'object' || payload === null) return null;
  const p = payload as Record<string, unknown>;
  if (action === 'RemoteStartTransaction' && typeof p.idTag === 'string' && p.idTag !== '')
    return { uid: p.idTag, type: 'Central' };
  if (action === 'RequestStartTransaction' && typeof p.idToken === 'object' && p.idToken !== null) {
    const t = p.idToken as Record<string, unknown>;
    if (typeof t.idToken === 'string' && t.idToken !== '')
      return { uid: t.idToken, type: (typeof t.type === 'string' ? t.type : 'Central') as TokenType };
  }
  return null;
}

/**
 * Tokens this gateway itself sent to a station in a remote start, accepted from that station for a while.
 *
 * A remote start's token is the CSMS's own (an operator's, a one-time token of an ad-hoc payment): the station
 * may present it in an Authorize, a StartTransaction or a TransactionEvent a moment after it accepted the start,
 * before the registry topic that announces the token has reached this gateway. The registry's word wins whenever
 * it has one (a Blocked or Expired token stays refused); a grant only answers for a token the registry does not
 * know, only for the station it was sent to, and only until it lapses. Times are a monotonic clock in ms.
 */
export class RemoteStartGrants {
  private readonly byStation = new Map<string, Map<string, { type: TokenType; untilMs: number }>>();

  constructor(private readonly ttlMs: number) {}

  grant(stationId: string, uid: string, type: TokenType, nowMs: number): void {
    this.prune(nowMs);
    let m = this.byStation.get(stationId);
    if (!m) this.byStation.set(stationId, (m = new Map()));
    m.set(uid, { type, untilMs: nowMs + this.ttlMs });
  }

  revoke(stationId: string, uid: string): void {
    const m = this.byStation.get(stationId);
    if (!m) return;
    m.delete(uid);
    if (m.size === 0) this.byStation.delete(stationId);
  }

  /** The token as an Accepted record with no account (the registry supplies that later), or undefined. */
  token(stationId: string, uid: string, nowMs: number): TokenRecord | undefined {
    const g = this.byStation.get(stationId)?.get(uid);
    if (!g || g.untilMs <= nowMs) return undefined;
    return { uid, type: g.type, status: 'Accepted', expiresAt: null, groupId: null, billingAccountId: null };
  }

  /** grants held (for tests and metrics) */
  get size(): number {
    let n = 0;
    for (const m of this.byStation.values()) n += m.size;
    return n;
  }

  private prune(nowMs: number): void {
    for (const [station, m] of this.byStation) {
      for (const [uid, g] of m) if (g.untilMs <= nowMs) m.delete(uid);
      if (m.size === 0) this.byStation.delete(station);
    }
  }
}
