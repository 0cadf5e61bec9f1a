import { isOcppAction, OCPP_PROTOCOLS } from '@csms/ocpp';
import { answeredActions, isNoFact, stationAction, stationActions, STATION_ACTION_TABLES } from '.';
import { normalise } from '../normalise';

describe.each(OCPP_PROTOCOLS)('%s station action table', (protocol) => {
  it('declares only actions of its version, each answered by the gateway or answered NotSupported', () => {
    for (const action of stationActions(protocol)) {
      expect([action, isOcppAction(protocol, action)]).toEqual([action, true]);
      expect(['answers', 'notSupported']).toContain(stationAction(protocol, action)?.gateway);
    }
    expect(answeredActions(protocol).length).toBeGreaterThan(0);
    expect(answeredActions(protocol).every((a) => stationActions(protocol).includes(a))).toBe(true);
  });

  it('gives every action a mapping or a reason why it carries no fact', () => {
    for (const action of stationActions(protocol)) {
      const { facts } = STATION_ACTION_TABLES[protocol][action];
      if (isNoFact(facts)) expect([action, facts.noFact.length > 10]).toEqual([action, true]);
      else expect([action, typeof facts]).toEqual([action, 'function']);
    }
  });

  it('normalises through the table: a no-fact action is ignored, an undeclared one is UNKNOWN_ACTION', () => {
    const record = (action: string) => ({
      stationId: 'CS-1',
      protocol,
      kind: 'call' as const,
      action,
      payload: {},
      receivedAt: '2026-03-01T10:00:05Z',
      connectionId: 'c',
      gatewayInstance: 'g',
    });
    const res = normalise(record('Heartbeat'), { eventId: 'e' });
    expect(res).toEqual({ ok: true, events: [], ignored: 'Heartbeat carries no charger event' });
    for (const action of ['Reset', 'toString', 'constructor', '__proto__']) {
      const r = normalise(record(action), { eventId: 'e' });
      expect([action, r.ok ? 'ok' : r.error.code]).toEqual([action, 'UNKNOWN_ACTION']);
    }
  });
});
