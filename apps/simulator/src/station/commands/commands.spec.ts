import { isOcppAction, OCPP_PROTOCOLS } from '@csms/ocpp';
import { COMMAND_ACTIONS, isStationAction } from '@csms/ocpp-gateway-core';
import { COMMANDS_16, COMMANDS_201 } from '.';

const tables = { 'ocpp1.6': COMMANDS_16, 'ocpp2.0.1': COMMANDS_201 } as const;

describe.each(OCPP_PROTOCOLS)('%s station commands', (protocol) => {
  it('answers every command the gateway can send', () => {
    const answered = Object.keys(tables[protocol]);
    for (const action of COMMAND_ACTIONS[protocol]) expect([action, answered.includes(action)]).toEqual([action, true]);
  });

  it('answers only CSMS-initiated actions of its version', () => {
    for (const action of Object.keys(tables[protocol])) {
      expect([action, isOcppAction(protocol, action), isStationAction(protocol, action)]).toEqual([
        action,
        true,
        false,
      ]);
      expect(typeof tables[protocol][action as keyof (typeof tables)[typeof protocol]]).toBe('function');
    }
  });
});
