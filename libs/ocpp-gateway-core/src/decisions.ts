import type { TokenRecord, TokenStatus } from './registry';

/** 1.6 IdTagInfo / the part of 2.0.1 IdTokenInfo the gateway fills in. */
export interface TokenVerdict {
  status: TokenStatus | 'Unknown';
  expiresAt: string | null;
  groupId: string | null;
}

/**
 * The verdict on an id token at time `now` (passed in): unknown tokens are Invalid (1.6) / Unknown
 * (2.0.1, by the caller's mapping), blocked stay Blocked, a token past its expiry is Expired, and an accepted
 * token whose billing account cannot pay (the payment service's standing of the account) is Blocked.
 */
export function judgeToken(token: TokenRecord | undefined, now: Date): TokenVerdict {
  if (!token) return { status: 'Unknown', expiresAt: null, groupId: null };
  if (token.status !== 'Accepted') return { status: token.status, expiresAt: token.expiresAt, groupId: token.groupId };
  if (token.expiresAt !== null && Date.parse(token.expiresAt) <= now.getTime())
    return { status: 'Expired', expiresAt: token.expiresAt, groupId: token.groupId };
  if (token.accountBlocked === true) return { status: 'Blocked', expiresAt: token.expiresAt, groupId: token.groupId };
  return { status: 'Accepted', expiresAt: token.expiresAt, groupId: token.groupId };
}

/** OCPP 1.6 IdTagInfo. */
export function idTagInfo16(v: TokenVerdict): {
  status: 'Accepted' | 'Blocked' | 'Expired' | 'Invalid';
  expiryDate?: string;
  parentIdTag?: string;
} {
  const status = v.status === 'Unknown' ? 'Invalid' : v.status;
  return {
    status,
    ...(v.expiresAt ? { expiryDate: v.expiresAt } : {}),
    ...(v.groupId ? { parentIdTag: v.groupId.slice(0, 20) } : {}),
  };
}

/** OCPP 2.0.1 IdTokenInfoType. */
export function idTokenInfo201(v: TokenVerdict): {
  status: 'Accepted' | 'Blocked' | 'Expired' | 'Invalid' | 'Unknown';
  cacheExpiryDateTime?: string;
  groupIdToken?: { idToken: string; type: 'Central' };
} {
  return {
    status: v.status,
    ...(v.expiresAt ? { cacheExpiryDateTime: v.expiresAt } : {}),
    ...(v.groupId ? { groupIdToken: { idToken: v.groupId.slice(0, 36), type: 'Central' } } : {}),
  };
}

/** BootNotification: registered stations are Accepted, provisional ones Pending (both versions). */
export function bootStatus(provisional: boolean): 'Accepted' | 'Pending' {
  return provisional ? 'Pending' : 'Accepted';
}
