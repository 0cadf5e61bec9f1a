import { StationRegisteredV2, StationRegisteredV3, TokenRegisteredV1, deriveId } from '@csms/contracts';
import { silentLogger } from '@csms/platform';
import type { Kafka } from 'kafkajs';
import type { CredentialStore, StationCredentials } from './credentials';
import { RegistryCache, stationFromEvent } from './registry-cache';

/** The credentials table as a map, and the reads made of it (the cache logic only: the topic is not involved). */
function table(
  rows: StationCredentials[],
): CredentialStore & { reads: string[]; rows: Map<string, StationCredentials> } {
  const map = new Map(rows.map((r) => [r.stationId, r]));
  const reads: string[] = [];
  return {
    rows: map,
    reads,
    all: async () => [...map.values()],
    one: async (id) => {
      reads.push(id);
      return map.get(id) ?? null;
    },
  };
}

const station = (version: 2 | 3, payload: Record<string, unknown>) => ({
  id: deriveId('cache-spec', String(payload.revision), version),
  type: 'registry.station_registered',
  version,
  occurredAt: '2026-03-01T10:00:00.000Z',
  key: 'CP-001',
  source: 'ocpp-gateway',
  causationId: null,
  correlationId: null,
  payload: { ...(version === 3 ? StationRegisteredV3.example : StationRegisteredV2.example), ...payload },
});

const cacheOver = (store: CredentialStore) =>
  new RegistryCache({} as Kafka, { stations: 's', tokens: 't' }, 'test', silentLogger(), store);

describe('RegistryCache credentials', () => {
  it('takes the hash from the database, re-reads the row when a v3 event has a newer credential revision, and needs no read otherwise', async () => {
    const store = table([{ stationId: 'CP-001', passwordHash: 'scrypt$old', credentialRevision: 4 }]);
    const cache = cacheOver(store);
    // a station the cache has no credentials for (start() loads them all first): read once, in the background
    cache.apply(station(3, { revision: 4, credentialRevision: 4 }));
    expect(cache.credentialsReady('CP-001')).toBe(false);
    await cache.loadCredentials('CP-001');
    expect(cache.credentialsReady('CP-001')).toBe(true);
    expect(cache.station('CP-001')?.passwordHash).toBe('scrypt$old');
    expect(store.reads).toEqual(['CP-001']);
    store.reads.length = 0;

    // the password changed at revision 7: until the row is re-read the old hash is not used
    store.rows.set('CP-001', { stationId: 'CP-001', passwordHash: 'scrypt$new', credentialRevision: 7 });
    cache.apply(station(3, { revision: 7, credentialRevision: 7 }));
    expect(cache.credentialsReady('CP-001')).toBe(false);
    expect(cache.station('CP-001')?.passwordHash).toBeNull();
    await cache.loadCredentials('CP-001');
    expect(cache.credentialsReady('CP-001')).toBe(true);
    expect(cache.station('CP-001')?.passwordHash).toBe('scrypt$new');
    expect(store.reads).toEqual(['CP-001']);

    // another change without a new password: nothing to read
    cache.apply(station(3, { revision: 8, credentialRevision: 7, timeZone: 'Europe/Paris' }));
    expect(cache.station('CP-001')).toMatchObject({ timeZone: 'Europe/Paris', passwordHash: 'scrypt$new' });
    expect(store.reads).toEqual(['CP-001']);
  });

  it('reads a station it has no credentials for once, however many upgrades ask at the same time', async () => {
    const store = table([{ stationId: 'CP-001', passwordHash: 'scrypt$h', credentialRevision: 0 }]);
    const cache = cacheOver(store);
    cache.apply(station(3, { revision: 1, credentialRevision: 0 }));
    await Promise.all([cache.loadCredentials('CP-001'), cache.loadCredentials('CP-001')]);
    expect(store.reads).toEqual(['CP-001']);
    expect(cache.station('CP-001')?.passwordHash).toBe('scrypt$h');
  });

  it('a read started for an older credential revision is followed by another', async () => {
    const store = table([{ stationId: 'CP-001', passwordHash: 'scrypt$one', credentialRevision: 2 }]);
    const cache = cacheOver(store);
    cache.apply(station(3, { revision: 2, credentialRevision: 2 }));
    // the password changes again while the first read is in flight
    store.rows.set('CP-001', { stationId: 'CP-001', passwordHash: 'scrypt$two', credentialRevision: 5 });
    cache.apply(station(3, { revision: 5, credentialRevision: 5 }));
    await cache.loadCredentials('CP-001');
    expect(cache.credentialsReady('CP-001')).toBe(true);
    expect(cache.station('CP-001')?.passwordHash).toBe('scrypt$two');
  });

  it('a station the database no longer has: no password, and no read at every upgrade', async () => {
    const store = table([]);
    const cache = cacheOver(store);
    cache.apply(station(3, { revision: 1, credentialRevision: 1 }));
    await cache.loadCredentials('CP-001');
    expect(cache.credentialsReady('CP-001')).toBe(true);
    expect(cache.station('CP-001')?.passwordHash).toBeNull();
    expect(store.reads).toEqual(['CP-001']);
  });

  it('a station without a password (profile 3) is ready at once and never read', () => {
    const store = table([]);
    const cache = cacheOver(store);
    cache.apply(station(3, { revision: 1, securityProfile: 3, passwordSet: false, credentialRevision: 0 }));
    expect(cache.credentialsReady('CP-001')).toBe(true);
    expect(cache.station('CP-001')?.passwordHash).toBeNull();
    expect(store.reads).toEqual([]);
  });

  it('never keeps the hash of a v2 record, and lists the station as one to re-publish until a v3 record follows', async () => {
    const store = table([{ stationId: 'CP-001', passwordHash: 'scrypt$db', credentialRevision: 0 }]);
    const cache = cacheOver(store);
    cache.apply(station(2, { revision: 3 }));
    expect(cache.legacyStations().map((p) => p.stationId)).toEqual(['CP-001']);
    expect(JSON.stringify(cache.legacyStations())).not.toContain('scrypt');
    await cache.loadCredentials('CP-001');
    expect(cache.station('CP-001')?.passwordHash).toBe('scrypt$db');
    cache.apply(station(3, { revision: 4, credentialRevision: 0 }));
    expect(cache.legacyStations()).toEqual([]);
  });
});

describe('stationFromEvent', () => {
  it("keeps the ids for the gateway and the station's registry facts (revision, site, time zone, location, EVSEs) as the event has them", () => {
    const p = { ...StationRegisteredV3.example, revision: 6 };
    const record = stationFromEvent(p, 'scrypt$h');
    expect(record).toMatchObject({ siteId: p.siteId, timeZone: p.timeZone, passwordHash: 'scrypt$h' });
    expect(record.evses).toEqual([{ evseId: 1, connectors: [{ connectorId: 1 }] }]);
    expect(record.answered).toEqual({
      revision: 6,
      siteId: p.siteId,
      timeZone: p.timeZone,
      location: p.location,
      evses: p.evses,
    });
    expect(record.answered?.evses[0].connectors[0]).toMatchObject({
      standard: 'IEC_62196_T2',
      power_type: 'AC_3_PHASE',
    });
  });

  it('a record of before locations (upcast): location null, the connector ids only', () => {
    const cache = cacheOver(table([]));
    cache.apply({
      ...station(2, {}),
      version: 1,
      payload: {
        stationId: 'CP-001',
        securityProfile: 3,
        passwordHash: null,
        certificateCn: null,
        siteId: null,
        timeZone: 'Europe/Berlin',
        evses: [{ evseId: 1, connectors: [{ connectorId: 2 }] }],
        enabled: true,
        deleted: false,
        revision: 2,
      },
    });
    expect(cache.station('CP-001')?.answered).toEqual({
      revision: 2,
      siteId: null,
      timeZone: 'Europe/Berlin',
      location: null,
      evses: [{ evseId: 1, connectors: [{ connectorId: 2 }] }],
    });
  });
});

const registryEvent = (type: string, key: string, payload: Record<string, unknown>) => ({
  id: deriveId('cache-spec', type, key, String(payload.revision)),
  type,
  version: 1,
  occurredAt: '2026-03-01T10:00:00.000Z',
  key,
  source: 'test',
  causationId: null,
  correlationId: null,
  payload,
});

describe('RegistryCache account standing', () => {
  const token = (uid: string, billingAccountId: string | null) =>
    registryEvent('registry.token_registered', uid, { ...TokenRegisteredV1.example, uid, billingAccountId });
  const standing = (accountId: string, canPay: boolean, revision: number) =>
    registryEvent('registry.account_standing_changed', accountId, {
      accountId,
      canPay,
      reason: canPay ? null : 'wallet_insufficient',
      revision,
    });

  it('marks the tokens of an account that cannot pay, clears them when it can again, ignores older standings', () => {
    const cache = cacheOver(table([]));
    cache.apply(token('T-1', 'acct-1'));
    cache.apply(token('T-2', 'acct-1'));
    cache.apply(token('T-3', 'acct-2'));
    cache.apply(token('T-4', null));
    expect(cache.token('T-1')?.accountBlocked).toBeUndefined();

    cache.apply(standing('acct-1', false, 1));
    expect(cache.token('T-1')?.accountBlocked).toBe(true);
    expect(cache.token('T-2')?.accountBlocked).toBe(true);
    expect(cache.token('T-3')?.accountBlocked).toBeUndefined();
    expect(cache.token('T-4')?.accountBlocked).toBeUndefined();
    // a token registered after its account was blocked is blocked too
    cache.apply(token('T-5', 'acct-1'));
    expect(cache.token('T-5')?.accountBlocked).toBe(true);

    cache.apply(standing('acct-1', true, 2));
    expect(cache.token('T-1')?.accountBlocked).toBeUndefined();
    // a late copy of the older standing changes nothing
    cache.apply(standing('acct-1', false, 1));
    expect(cache.token('T-1')?.accountBlocked).toBeUndefined();
    expect(cache.health().detail).toMatchObject({ blockedAccounts: 0, tokens: 5 });
  });
});
