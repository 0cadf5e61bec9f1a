/**
 * Signed meter values from the frame a station sends to session.ended, byte for byte: the frame's text is read
 * as the gateway's WebSocket library reads it (JSON.parse), normalised, folded by the session decider, and the
 * session.ended payload goes through JSON as the broker carries it. The signature must still verify over the
 * same bytes, and the readings kept must be the transaction's begin and end (OCMF pairing needs both).
 */
import { normaliseOrThrow, type OcppInboundRecord } from '@csms/ocpp-normaliser';
import { checkSession, verifyOcmf, verifySignedMeterValue } from '@csms/ocmf';
import { vector } from '../../ocmf/src/testing/vectors';
import type { SessionCommand } from './decider';
import { run } from './spec-helpers';
import type { SessionEndedPayload } from './events';

/** One inbound call made of the frame's text as received (not of an object: the text is what is signed). */
function fromFrame(
  stationId: string,
  protocol: OcppInboundRecord['protocol'],
  n: number,
  frameText: string,
  response?: unknown,
): SessionCommand {
  const [, messageId, action, payload] = JSON.parse(frameText) as [number, string, string, unknown];
  const record: OcppInboundRecord = {
    stationId,
    protocol,
    kind: 'call',
    messageId,
    action,
    payload,
    receivedAt: '2026-03-01T10:00:00Z',
    connectionId: 'c1',
    gatewayInstance: 'gw',
    ...(response === undefined ? {} : { response }),
  };
  const { events } = normaliseOrThrow(record, {
    eventId: `${stationId}-${n}`,
    topic: 'ocpp.inbound',
    partition: 0,
    offset: String(n),
  });
  return { type: 'RecordChargerEvents', events };
}

/** The frame as a station may write it: the same JSON string, with characters escaped (`\u004F`, `\/`) that JSON.stringify would not escape. */
const escaped = (frame: unknown[]) =>
  JSON.stringify(frame)
    .replace(/"OCMF\|/g, '"\\u004FCMF|')
    .replace(/\//g, '\\/');

function ended(published: { type: string; payload: unknown }[]): SessionEndedPayload {
  const e = published.filter((x) => x.type === 'session.ended');
  expect(e).toHaveLength(1);
  // as the broker carries it
  return JSON.parse(JSON.stringify(e[0].payload)) as SessionEndedPayload;
}

describe('signed meter values: frame → session.ended, verbatim', () => {
  it('OCPP 1.6 SignedData (begin in MeterValues, end in StopTransaction.transactionData) verifies after the trip', () => {
    const begin = vector('ts-ebee-begin');
    const end = vector('ts-ebee-end');
    const cmds: SessionCommand[] = [
      fromFrame(
        'CS-S16',
        'ocpp1.6',
        1,
        JSON.stringify([
          2,
          'a1',
          'StartTransaction',
          { connectorId: 1, idTag: 'TAG1', meterStart: 0, timestamp: '2026-03-01T10:00:00Z' },
        ]),
        {
          transactionId: 7,
          idTagInfo: { status: 'Accepted' },
        },
      ),
      fromFrame(
        'CS-S16',
        'ocpp1.6',
        2,
        escaped([
          2,
          'a2',
          'MeterValues',
          {
            connectorId: 1,
            transactionId: 7,
            meterValue: [
              {
                timestamp: '2026-03-01T10:00:01Z',
                sampledValue: [
                  { value: '0', context: 'Transaction.Begin', unit: 'Wh' },
                  { value: begin.ocmf, format: 'SignedData', context: 'Transaction.Begin' },
                ],
              },
            ],
          },
        ]),
      ),
      fromFrame(
        'CS-S16',
        'ocpp1.6',
        3,
        escaped([
          2,
          'a3',
          'StopTransaction',
          {
            transactionId: 7,
            meterStop: 1000,
            timestamp: '2026-03-01T11:00:00Z',
            transactionData: [
              {
                timestamp: '2026-03-01T11:00:00Z',
                sampledValue: [{ value: end.ocmf, format: 'SignedData', context: 'Transaction.End' }],
              },
            ],
          },
        ]),
      ),
    ];
    const p = ended(run(cmds).published);
    expect(p.signedMeterValues.map((v) => [v.context, v.signed])).toEqual([
      ['Transaction.Begin', { format: 'ocpp1.6-SignedData', data: begin.ocmf }],
      ['Transaction.End', { format: 'ocpp1.6-SignedData', data: end.ocmf }],
    ]);
    const results = p.signedMeterValues.map((v) =>
      verifyOcmf(v.signed.format === 'ocpp1.6-SignedData' ? v.signed.data : '', begin.publicKey.value),
    );
    expect(results.map((r) => r.status)).toEqual(['VALID', 'VALID']);
    expect(checkSession(results).ok).toBe(true);
  });

  it('OCPP 2.0.1 signedMeterValue (signedMeterData, signingMethod, encodingMethod, publicKey) arrives whole', () => {
    const begin = vector('ts-dzg-secp256k1-begin');
    const end = vector('ts-dzg-secp256k1-end');
    const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
    const smv = (ocmf: string) => ({
      signedMeterData: b64(ocmf),
      signingMethod: '',
      encodingMethod: 'OCMF',
      publicKey: b64(`oca:base16:asn1:${begin.publicKey.value}`),
    });
    const tx = (seqNo: number, eventType: string, context: string, ocmf: string, at: string) =>
      escaped([
        2,
        `t${seqNo}`,
        'TransactionEvent',
        {
          eventType,
          timestamp: at,
          triggerReason: eventType === 'Started' ? 'Authorized' : 'StopAuthorized',
          seqNo,
          transactionInfo: { transactionId: 'TX-S', ...(eventType === 'Ended' ? { stoppedReason: 'Local' } : {}) },
          ...(eventType === 'Started'
            ? { evse: { id: 1, connectorId: 1 }, idToken: { idToken: 'TOKEN', type: 'ISO14443' } }
            : {}),
          meterValue: [
            { timestamp: at, sampledValue: [{ value: seqNo * 1000, context, signedMeterValue: smv(ocmf) }] },
          ],
        },
      ]);
    const p = ended(
      run([
        fromFrame('CS-S201', 'ocpp2.0.1', 1, tx(0, 'Started', 'Transaction.Begin', begin.ocmf, '2026-03-01T10:00:00Z')),
        fromFrame('CS-S201', 'ocpp2.0.1', 2, tx(1, 'Ended', 'Transaction.End', end.ocmf, '2026-03-01T11:00:00Z')),
      ]).published,
    );
    expect(p.signedMeterValues.map((v) => [v.context, v.signed])).toEqual([
      ['Transaction.Begin', { format: 'ocpp2.0.1-signedMeterValue', ...smv(begin.ocmf) }],
      ['Transaction.End', { format: 'ocpp2.0.1-signedMeterValue', ...smv(end.ocmf) }],
    ]);
    const results = p.signedMeterValues.map((v) =>
      v.signed.format === 'ocpp2.0.1-signedMeterValue' ? verifySignedMeterValue(v.signed) : verifyOcmf(''),
    );
    expect(results.map((r) => r.status)).toEqual(['VALID', 'VALID']);
    expect(checkSession(results).ok).toBe(true);
  });

  it('with more signed values than session.ended keeps, the begin and end readings are the ones kept', () => {
    const begin = vector('ts-ebee-begin');
    const end = vector('ts-ebee-end');
    const cmds: SessionCommand[] = [
      fromFrame(
        'CS-SM',
        'ocpp1.6',
        1,
        JSON.stringify([
          2,
          'b1',
          'StartTransaction',
          { connectorId: 1, idTag: 'TAG1', meterStart: 0, timestamp: '2026-03-01T10:00:00Z' },
        ]),
        {
          transactionId: 8,
          idTagInfo: { status: 'Accepted' },
        },
      ),
    ];
    const mv = (n: number, context: string, data: string) =>
      fromFrame(
        'CS-SM',
        'ocpp1.6',
        n,
        JSON.stringify([
          2,
          `b${n}`,
          'MeterValues',
          {
            connectorId: 1,
            transactionId: 8,
            meterValue: [
              {
                timestamp: `2026-03-01T10:${String(n).padStart(2, '0')}:00Z`,
                sampledValue: [
                  { value: String(n * 10), unit: 'Wh', context },
                  { value: data, format: 'SignedData', context },
                ],
              },
            ],
          },
        ]),
      );
    cmds.push(mv(2, 'Transaction.Begin', begin.ocmf));
    for (let n = 3; n < 12; n++) cmds.push(mv(n, 'Sample.Periodic', `OCMF|{"RD":[]}|{"SD":"${n}"}`));
    cmds.push(mv(12, 'Transaction.End', end.ocmf));
    cmds.push(
      fromFrame(
        'CS-SM',
        'ocpp1.6',
        13,
        JSON.stringify([
          2,
          'b13',
          'StopTransaction',
          { transactionId: 8, meterStop: 130, timestamp: '2026-03-01T10:13:00Z' },
        ]),
      ),
    );
    const p = ended(run(cmds).published);
    expect(p.signedMeterValues).toHaveLength(4);
    expect(p.signedMeterValuesOmitted).toBe(7);
    expect(p.signedMeterValues[0].signed).toEqual({ format: 'ocpp1.6-SignedData', data: begin.ocmf });
    expect(p.signedMeterValues[3].signed).toEqual({ format: 'ocpp1.6-SignedData', data: end.ocmf });
  });
});
