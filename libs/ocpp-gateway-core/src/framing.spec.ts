import fc from 'fast-check';
import { encodeCallError, encodeCallResult, parseFrame } from './framing';

describe('parseFrame', () => {
  it('parses a CALL, a CALLRESULT and a CALLERROR', () => {
    expect(parseFrame('ocpp1.6', '[2,"m1","Heartbeat",{}]')).toEqual({
      kind: 'call',
      messageId: 'm1',
      action: 'Heartbeat',
      payload: {},
    });
    expect(parseFrame('ocpp2.0.1', '[3,"m2",{"status":"Accepted"}]')).toEqual({
      kind: 'callresult',
      messageId: 'm2',
      payload: { status: 'Accepted' },
    });
    expect(parseFrame('ocpp2.0.1', '[4,"m3","NotSupported","no",{}]')).toEqual({
      kind: 'callerror',
      messageId: 'm3',
      errorCode: 'NotSupported',
      errorDescription: 'no',
      errorDetails: {},
    });
  });

  it.each([
    ['ocpp1.6', 'not json', '-1', 'FormationViolation'],
    ['ocpp2.0.1', 'not json', '-1', 'RpcFrameworkError'],
    ['ocpp1.6', '{"a":1}', '-1', 'FormationViolation'],
    ['ocpp2.0.1', '[]', '-1', 'RpcFrameworkError'],
    ['ocpp2.0.1', '["2","m1","Heartbeat",{}]', 'm1', 'RpcFrameworkError'],
    ['ocpp2.0.1', '[2,"m1","Heartbeat"]', 'm1', 'RpcFrameworkError'],
    ['ocpp2.0.1', '[2,"m1",7,{}]', 'm1', 'RpcFrameworkError'],
    ['ocpp2.0.1', '[2,42,"Heartbeat",{}]', '-1', 'RpcFrameworkError'],
    ['ocpp2.0.1', `[2,"${'x'.repeat(37)}","Heartbeat",{}]`, '-1', 'RpcFrameworkError'],
    ['ocpp1.6', '[2,"m1","Heartbeat",[]]', 'm1', 'FormationViolation'],
    ['ocpp2.0.1', '[2,"m1","Heartbeat",null]', 'm1', 'FormatViolation'],
    ['ocpp2.0.1', '[7,"m1","Heartbeat",{}]', 'm1', 'MessageTypeNotSupported'],
  ] as const)('%s %s -> CALLERROR %s %s', (protocol, text, id, code) => {
    const f = parseFrame(protocol, text);
    expect(f.kind).toBe('invalid');
    expect(f.kind === 'invalid' && f.reply).toEqual(expect.objectContaining({ messageId: id, errorCode: code }));
  });

  it('does not answer a broken response, nor (1.6) an unknown message type', () => {
    for (const [p, text] of [
      ['ocpp2.0.1', '[3,"m1"]'],
      ['ocpp1.6', '[4,"m1","X"]'],
      ['ocpp1.6', '[5,"m1","Heartbeat",{}]'],
      ['ocpp2.0.1', '[3,"",{}]'],
    ] as const) {
      const f = parseFrame(p, text);
      expect(f).toEqual(expect.objectContaining({ kind: 'invalid', reply: null }));
    }
  });

  it('encodes results and errors, truncating long descriptions', () => {
    expect(encodeCallResult('a', { x: 1 })).toBe('[3,"a",{"x":1}]');
    const e = JSON.parse(encodeCallError('a', 'InternalError', 'd'.repeat(1000)));
    expect(e[0]).toBe(4);
    expect(e[3]).toHaveLength(255);
    expect(e[4]).toEqual({});
  });

  it('never throws, whatever arrives (any string, any JSON), and answers a CALL-shaped frame or nothing', () => {
    const anyFrame = fc.oneof(
      fc.string(),
      fc.json(),
      fc.jsonValue().map((v) => JSON.stringify([2, 'm', 'Heartbeat', v])),
      fc.array(fc.jsonValue()).map((a) => JSON.stringify(a)),
    );
    fc.assert(
      fc.property(fc.constantFrom('ocpp1.6' as const, 'ocpp2.0.1' as const), anyFrame, (protocol, text) => {
        const f = parseFrame(protocol, text);
        if (f.kind === 'invalid' && f.reply) expect(f.reply.messageId.length).toBeLessThanOrEqual(36);
      }),
      { numRuns: 2000 },
    );
    expect(parseFrame('ocpp2.0.1', '['.repeat(100000)).kind).toBe('invalid');
  });
});
