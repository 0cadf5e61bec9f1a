import { OCPP_PROTOCOLS, type OcppProtocol } from '@csms/ocpp';
import { CHARGER_ACTIONS, STATION_ACTIONS } from '@csms/ocpp-gateway-core';
import { answeredActions, normalise, stationAction, type OcppInboundRecord } from '@csms/ocpp-normaliser';
import type { OcppHandler } from './handler';
import { HANDLERS, ROUTES, routingTable } from './routing';

const sorted = (xs: Iterable<string>): string[] => [...xs].sort();

function call(protocol: OcppProtocol, action: string): OcppInboundRecord {
  return {
    stationId: 'CS-1',
    protocol,
    kind: 'call',
    messageId: 'm-1',
    action,
    payload: {},
    receivedAt: '2026-03-01T10:00:05Z',
    connectionId: 'conn-1',
    gatewayInstance: 'gw-a',
  };
}

describe.each(OCPP_PROTOCOLS)('%s: one declaration per action', (protocol) => {
  it('routes exactly the actions its station action table declares answered, each with its handler', () => {
    expect(sorted(Object.keys(ROUTES[protocol]))).toEqual(sorted(answeredActions(protocol)));
    expect(sorted(Object.keys(HANDLERS[protocol]))).toEqual(sorted(answeredActions(protocol)));
    expect(sorted(CHARGER_ACTIONS[protocol])).toEqual(sorted(answeredActions(protocol)));
    for (const [action, route] of Object.entries(ROUTES[protocol])) {
      expect([action, route.handler]).toEqual([action, HANDLERS[protocol][action]]);
      expect([action, route.request.$id, route.response.$id]).toEqual([
        action,
        `urn:${action}.req`,
        `urn:${action}.conf`,
      ]);
    }
  });

  // A routed action the normaliser does not know would park every such record on the dead-letter topics
  // of both consumers (UNKNOWN_ACTION): each one is mapped or declared to carry no fact.
  it('normalises every action a station handler exists for: a mapping or an explicit no fact, never UNKNOWN_ACTION', () => {
    const handled = new Set([...Object.keys(HANDLERS[protocol]), ...Object.keys(ROUTES[protocol])]);
    expect(handled.size).toBeGreaterThan(0);
    for (const action of handled) {
      const declared = stationAction(protocol, action);
      expect([action, declared?.gateway]).toEqual([action, 'answers']);
      expect([
        action,
        typeof declared?.facts === 'function' || typeof (declared?.facts as { noFact?: unknown })?.noFact === 'string',
      ]).toEqual([action, true]);
      // the empty payload is refused as INVALID_PAYLOAD (or gives nothing), never as an unknown action
      const res = normalise(call(protocol, action), { eventId: 'e-1' });
      expect([action, res.ok ? 'ok' : res.error.code]).not.toEqual([action, 'UNKNOWN_ACTION']);
    }
  });

  it('declares every action a station may send (routed or answered NotSupported), and each is normalised', () => {
    for (const action of STATION_ACTIONS[protocol]) {
      const res = normalise(call(protocol, action), { eventId: 'e-1' });
      expect([action, res.ok ? 'ok' : res.error.code]).not.toEqual([action, 'UNKNOWN_ACTION']);
    }
  });
});

describe('routingTable', () => {
  const noop: OcppHandler<never, object> = () => ({});

  it('refuses handlers missing an answered action', () => {
    const { Heartbeat: _dropped, ...rest } = HANDLERS['ocpp1.6'];
    expect(() => routingTable('ocpp1.6', rest)).toThrow(/missing \[Heartbeat\]/);
  });

  it('refuses a handler for an action the table does not declare answered', () => {
    expect(() => routingTable('ocpp2.0.1', { ...HANDLERS['ocpp2.0.1'], NotifyChargingLimit: noop })).toThrow(
      /not declared answered \[NotifyChargingLimit\]/,
    );
  });
});
