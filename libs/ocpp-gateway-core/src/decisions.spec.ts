import { commandStatusOf, decideUnheldCommand, isCommandAction, unsentCommandStatus } from './commands';
import { isOcppAction } from '@csms/ocpp';
import { CHARGER_ACTIONS, STATION_ACTIONS, decideRoute, isStationAction, BadMessageBudget } from './routing';
import {
  decideUpgrade,
  reportedConnector,
  withConnector,
  type StationRecord,
  type UpgradeCredentials,
} from './registry';
import { idTagInfo16, idTokenInfo201, judgeToken } from './decisions';
import { isValidTransactionId, startTransactionIdentity } from './transaction-id';

const station = (over: Partial<StationRecord> = {}): StationRecord => ({
  stationId: 'CP1',
  securityProfile: 1,
  passwordHash: 'h:secret',
  certificateCn: null,
  siteId: null,
  timeZone: 'UTC',
  evses: [],
  enabled: true,
  ...over,
});
const matches = (hash: string, pw: string) => hash === `h:${pw}`;
const creds = (over: Partial<UpgradeCredentials> = {}): UpgradeCredentials => ({
  tls: false,
  verifiedClientCertCn: null,
  basic: null,
  ...over,
});
const opts = { allowProvisional: false, passwordMatches: matches };

describe('decideUpgrade', () => {
  it('refuses unknown stations unless provisional registration is allowed', () => {
    expect(decideUpgrade('X', undefined, creds(), opts)).toEqual(expect.objectContaining({ ok: false, status: 404 }));
    expect(decideUpgrade('X', undefined, creds(), { ...opts, allowProvisional: true })).toEqual({
      ok: true,
      provisional: true,
      profile: 0,
    });
  });

  it.each([
    [
      'profile 1, right password',
      station(),
      creds({ basic: { username: 'CP1', password: 'secret' } }),
      { ok: true, provisional: false, profile: 1 },
    ],
    [
      'profile 1, wrong password',
      station(),
      creds({ basic: { username: 'CP1', password: 'nope' } }),
      { ok: false, status: 401 },
    ],
    [
      'profile 1, username is not the station id',
      station(),
      creds({ basic: { username: 'CP2', password: 'secret' } }),
      { ok: false, status: 401 },
    ],
    ['profile 1, no credentials', station(), creds(), { ok: false, status: 401 }],
    [
      'profile 2 over plain ws',
      station({ securityProfile: 2 }),
      creds({ basic: { username: 'CP1', password: 'secret' } }),
      { ok: false, status: 403 },
    ],
    [
      'profile 2 over TLS',
      station({ securityProfile: 2 }),
      creds({ tls: true, basic: { username: 'CP1', password: 'secret' } }),
      { ok: true, provisional: false, profile: 2 },
    ],
    [
      'profile 3 with Basic only',
      station({ securityProfile: 3 }),
      creds({ tls: true, basic: { username: 'CP1', password: 'secret' } }),
      { ok: false, status: 403 },
    ],
    [
      'profile 3 with its certificate',
      station({ securityProfile: 3 }),
      creds({ tls: true, verifiedClientCertCn: 'CP1' }),
      { ok: true, provisional: false, profile: 3 },
    ],
    [
      'profile 3 with another station certificate',
      station({ securityProfile: 3 }),
      creds({ tls: true, verifiedClientCertCn: 'CP2' }),
      { ok: false, status: 401 },
    ],
    [
      'disabled',
      station({ enabled: false }),
      creds({ basic: { username: 'CP1', password: 'secret' } }),
      { ok: false, status: 403 },
    ],
  ])('%s', (_name, s, c, expected) => {
    expect(decideUpgrade('CP1', s, c, opts)).toEqual(expect.objectContaining(expected));
  });
});

describe('decideRoute', () => {
  const handled = new Set(['Heartbeat']);
  it('routes handled actions, NotSupported for known ones, NotImplemented for unknown ones', () => {
    expect(decideRoute('Heartbeat', handled, true)).toEqual({ route: 'handle' });
    expect(decideRoute('Reset', handled, true)).toEqual({ route: 'notSupported' });
    expect(decideRoute('Sneeze', handled, false)).toEqual({ route: 'notImplemented' });
  });

  it.each([
    ['ocpp1.6', 'Reset', 'csmsOnly'],
    ['ocpp1.6', 'RemoteStartTransaction', 'csmsOnly'],
    ['ocpp1.6', 'SignCertificate', 'notSupported'],
    ['ocpp1.6', 'Heartbeat', 'handle'],
    ['ocpp2.0.1', 'Reset', 'csmsOnly'],
    ['ocpp2.0.1', 'SetVariables', 'csmsOnly'],
    ['ocpp2.0.1', 'NotifyChargingLimit', 'notSupported'],
    ['ocpp2.0.1', 'DataTransfer', 'handle'],
    ['ocpp2.0.1', 'Sneeze', 'notImplemented'],
  ] as const)('%s %s from a station: %s', (protocol, action, route) => {
    const handled = new Set<string>(CHARGER_ACTIONS[protocol]);
    expect(decideRoute(action, handled, isOcppAction(protocol, action), isStationAction(protocol, action))).toEqual({
      route,
    });
  });

  it('the gateway answers exactly the actions the station action tables declare answered', () => {
    expect([...CHARGER_ACTIONS['ocpp1.6']].sort()).toEqual([
      'Authorize',
      'BootNotification',
      'DataTransfer',
      'DiagnosticsStatusNotification',
      'FirmwareStatusNotification',
      'Heartbeat',
      'MeterValues',
      'StartTransaction',
      'StatusNotification',
      'StopTransaction',
    ]);
    expect([...CHARGER_ACTIONS['ocpp2.0.1']].sort()).toEqual([
      'Authorize',
      'BootNotification',
      'DataTransfer',
      'FirmwareStatusNotification',
      'Heartbeat',
      'LogStatusNotification',
      'MeterValues',
      'NotifyEvent',
      'NotifyReport',
      'SecurityEventNotification',
      'StatusNotification',
      'TransactionEvent',
    ]);
    expect(STATION_ACTIONS['ocpp1.6']).toHaveLength(14);
    expect(STATION_ACTIONS['ocpp2.0.1']).toHaveLength(25);
  });

  it('every station action is an action of its version', () => {
    for (const p of ['ocpp1.6', 'ocpp2.0.1'] as const)
      for (const a of STATION_ACTIONS[p]) expect([p, a, isOcppAction(p, a)]).toEqual([p, a, true]);
  });

  it('counts bad messages up to the limit', () => {
    const b = new BadMessageBudget(3);
    expect([b.spend(), b.spend(), b.spend()]).toEqual([false, false, true]);
  });
});

describe('token verdicts', () => {
  const now = new Date('2026-06-01T00:00:00Z');
  const token = {
    uid: 'T1',
    type: 'ISO14443' as const,
    status: 'Accepted' as const,
    expiresAt: '2026-12-31T00:00:00Z',
    groupId: 'G1',
    billingAccountId: 'A1',
  };
  it('accepts a valid token, expires an old one, maps unknown per version', () => {
    expect(idTagInfo16(judgeToken(token, now))).toEqual({
      status: 'Accepted',
      expiryDate: '2026-12-31T00:00:00Z',
      parentIdTag: 'G1',
    });
    expect(judgeToken({ ...token, expiresAt: '2026-01-01T00:00:00Z' }, now).status).toBe('Expired');
    expect(judgeToken({ ...token, status: 'Blocked' }, now).status).toBe('Blocked');
    expect(idTagInfo16(judgeToken(undefined, now))).toEqual({ status: 'Invalid' });
    expect(idTokenInfo201(judgeToken(undefined, now))).toEqual({ status: 'Unknown' });
  });
  it('blocks an accepted token whose billing account cannot pay; other verdicts come first', () => {
    expect(judgeToken({ ...token, accountBlocked: true }, now).status).toBe('Blocked');
    expect(idTokenInfo201(judgeToken({ ...token, accountBlocked: true }, now)).status).toBe('Blocked');
    expect(judgeToken({ ...token, accountBlocked: false }, now).status).toBe('Accepted');
    expect(judgeToken({ ...token, accountBlocked: true, expiresAt: '2026-01-01T00:00:00Z' }, now).status).toBe(
      'Expired',
    );
    expect(judgeToken({ ...token, accountBlocked: true, status: 'Invalid' }, now).status).toBe('Invalid');
  });
});

describe('startTransactionIdentity', () => {
  const s = { stationId: 'CP1', connectorId: 1, idTag: 'T1', timestamp: '2026-01-01T00:00:00Z', meterStart: 10 };
  it('is the same for a retry, whatever the timestamp notation, and differs otherwise', () => {
    expect(startTransactionIdentity({ ...s, timestamp: '2026-01-01T00:00:00.000Z' })).toBe(startTransactionIdentity(s));
    expect(startTransactionIdentity({ ...s, meterStart: 11 })).not.toBe(startTransactionIdentity(s));
    expect(startTransactionIdentity({ ...s, connectorId: 2 })).not.toBe(startTransactionIdentity(s));
  });
  it('reads a timestamp without offset as UTC, as the normaliser does, whatever the process time zone', () => {
    expect(startTransactionIdentity({ ...s, timestamp: '2026-01-01T00:00:00' })).toBe(startTransactionIdentity(s));
    expect(startTransactionIdentity({ ...s, timestamp: '2026-01-01T01:00:00+01:00' })).toBe(
      startTransactionIdentity(s),
    );
    expect(startTransactionIdentity({ ...s, timestamp: 'not a time' })).not.toBe(startTransactionIdentity(s));
  });
  it('bounds transaction ids to a signed 32-bit int', () => {
    expect(isValidTransactionId(2_147_483_647)).toBe(true);
    expect(isValidTransactionId(2_147_483_648)).toBe(false);
    expect(isValidTransactionId(0)).toBe(false);
  });
});

describe('commands', () => {
  it('knows the command actions of each version', () => {
    expect(isCommandAction('ocpp1.6', 'RemoteStartTransaction')).toBe(true);
    expect(isCommandAction('ocpp2.0.1', 'RemoteStartTransaction')).toBe(false);
    expect(isCommandAction('ocpp2.0.1', 'RequestStartTransaction')).toBe(true);
  });
  it.each([
    [{ status: 'Accepted' }, 'accepted'],
    [{ status: 'Scheduled' }, 'accepted'],
    [{ status: 'Rejected' }, 'rejected'],
    [{ status: 'NotSupported' }, 'rejected'],
    [{ configurationKey: [] }, 'accepted'],
  ] as const)('%j -> %s', (response, status) => {
    expect(commandStatusOf(response)).toBe(status);
  });
  it('lets the holder answer, says offline when nobody holds the station, never twice', () => {
    expect(decideUnheldCommand('gw-2', 'gw-1', false)).toBe('ignore');
    expect(decideUnheldCommand(null, 'gw-1', false)).toBe('offline');
    expect(decideUnheldCommand(null, 'gw-1', true)).toBe('ignore');
  });
  it.each(['offline', 'expired', 'not_supported', 'invalid_request'] as const)(
    'a command already dispatched is never reported %s, but interrupted',
    (status) => {
      expect(unsentCommandStatus(status, false)).toBe(status);
      expect(unsentCommandStatus(status, true)).toBe('interrupted');
    },
  );
});

describe('connectors as reported', () => {
  it('maps 1.6 connectors to EVSEs with one connector, 2.0.1 as reported, and ignores the station itself', () => {
    expect(
      reportedConnector('ocpp1.6', 'StatusNotification', { connectorId: 2, status: 'Available', errorCode: 'NoError' }),
    ).toEqual({ evseId: 2, connectorId: 1 });
    expect(reportedConnector('ocpp1.6', 'StatusNotification', { connectorId: 0 })).toBeNull();
    expect(reportedConnector('ocpp2.0.1', 'StatusNotification', { evseId: 1, connectorId: 2 })).toEqual({
      evseId: 1,
      connectorId: 2,
    });
    expect(reportedConnector('ocpp2.0.1', 'Heartbeat', {})).toBeNull();
  });
  it('adds a new connector in order and says null for a known one', () => {
    const evses = [{ evseId: 2, connectors: [{ connectorId: 1 }] }];
    expect(withConnector(evses, 2, 1)).toBeNull();
    expect(withConnector(evses, 1, 1)).toEqual([
      { evseId: 1, connectors: [{ connectorId: 1 }] },
      { evseId: 2, connectors: [{ connectorId: 1 }] },
    ]);
    expect(withConnector(evses, 2, 2)).toEqual([{ evseId: 2, connectors: [{ connectorId: 1 }, { connectorId: 2 }] }]);
  });
  it('keeps what the registry knows of the EVSE and its other connectors (eMI3 id, OCPI connector type)', () => {
    const typed = { connectorId: 1, standard: 'IEC_62196_T2', format: 'SOCKET', power_type: 'AC_3_PHASE' };
    const evses = [{ evseId: 1, emi3EvseId: 'NL*CSM*E001*1', connectors: [typed] }];
    expect(withConnector(evses, 1, 2)).toEqual([
      { evseId: 1, emi3EvseId: 'NL*CSM*E001*1', connectors: [typed, { connectorId: 2 }] },
    ]);
  });
});
