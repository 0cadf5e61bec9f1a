import { ContractError, EventCatalogue, deriveId } from '../index';
import { COMMAND_RESULT_STATUSES, OcppCommandCompletedV1 } from './commands';

describe('ocpp.command_completed v1', () => {
  const catalogue = new EventCatalogue([OcppCommandCompletedV1]);
  const completed = (payload: unknown) => ({
    id: deriveId('test', 'command'),
    type: OcppCommandCompletedV1.type,
    version: 1,
    occurredAt: '2026-03-01T10:02:00.000Z',
    key: 'CP-001',
    source: 'ocpp-gateway/gw-2',
    causationId: null,
    correlationId: '3f1c9a52-7d2e-4c1b-9d8e-0a1b2c3d4e5f',
    payload,
  });

  it('says `interrupted` for a command that was sent but whose answer was lost (gateway crash), with no response', () => {
    expect(COMMAND_RESULT_STATUSES).toContain('interrupted');
    const payload = {
      ...OcppCommandCompletedV1.example,
      status: 'interrupted',
      response: null,
      detail:
        'sent by gw-1 at 2026-03-01T10:00:00.500Z; the gateway stopped before the station answered: the station may or may not have carried it out',
      gatewayInstance: 'gw-2',
    };
    expect(catalogue.parse(completed(payload)).payload).toEqual(payload);
  });

  it('refuses a status outside the list', () => {
    expect(() => catalogue.parse(completed({ ...OcppCommandCompletedV1.example, status: 'maybe' }))).toThrow(
      ContractError,
    );
  });
});
