import { RemoteStartGrants, remoteStartTokenOf } from './remote-start';
import { judgeToken } from './decisions';

describe('remoteStartTokenOf', () => {
  it.each([
    ['RemoteStartTransaction', { idTag: 'QR1', connectorId: 1 }, { uid: 'QR1', type: 'Central' }],
    [
      'RequestStartTransaction',
      { idToken: { idToken: 'QR2', type: 'ISO14443' }, remoteStartId: 1 },
      { uid: 'QR2', type: 'ISO14443' },
    ],
    ['RequestStartTransaction', { idToken: { idToken: 'QR3' } }, { uid: 'QR3', type: 'Central' }],
    ['RemoteStartTransaction', { idTag: '' }, null],
    ['RemoteStartTransaction', { connectorId: 1 }, null],
    ['RequestStartTransaction', { idToken: null }, null],
    ['RequestStartTransaction', { idToken: { idToken: 7 } }, null],
    ['RemoteStopTransaction', { transactionId: 1, idTag: 'X' }, null],
    ['Reset', null, null],
    ['RemoteStartTransaction', 'QR1', null],
  ])('%s %j → %j', (action, payload, expected) => {
    expect(remoteStartTokenOf(action, payload)).toEqual(expected);
  });
});

describe('RemoteStartGrants', () => {
  it('answers Accepted for the station it was sent to, until it lapses', () => {
    const g = new RemoteStartGrants(1000);
    g.grant('CP-1', 'QR1', 'Central', 10_000);
    expect(judgeToken(g.token('CP-1', 'QR1', 10_999), new Date()).status).toBe('Accepted');
    expect(g.token('CP-1', 'QR1', 10_999)?.billingAccountId).toBeNull();
    expect(g.token('CP-1', 'QR1', 11_000)).toBeUndefined();
    expect(g.token('CP-2', 'QR1', 10_500)).toBeUndefined();
    expect(g.token('CP-1', 'QR9', 10_500)).toBeUndefined();
  });

  it('a revoked grant answers nothing; a new grant renews the window', () => {
    const g = new RemoteStartGrants(1000);
    g.grant('CP-1', 'QR1', 'Central', 0);
    g.revoke('CP-1', 'QR1');
    expect(g.token('CP-1', 'QR1', 1)).toBeUndefined();
    g.revoke('CP-1', 'QR1'); // twice: nothing to do
    g.grant('CP-1', 'QR1', 'Central', 0);
    g.grant('CP-1', 'QR1', 'Central', 900);
    expect(g.token('CP-1', 'QR1', 1500)).toBeDefined();
  });

  it('lapsed grants are dropped as new ones come, so the map does not grow', () => {
    const g = new RemoteStartGrants(10);
    for (let i = 0; i < 1000; i++) g.grant(`CP-${i}`, `T${i}`, 'Central', i * 100);
    expect(g.size).toBe(1);
  });
});
