import { TokenRegisteredV1, systemCatalogue, type Envelope } from '@csms/contracts';
import { SharedDecodes } from './shared-decodes';

const catalogue = systemCatalogue();

function record(uid: string): Buffer {
  const env = catalogue.create(TokenRegisteredV1, {
    id: '6f1c1f0e-3a52-5d54-9a6e-2f4f7c0e9b01',
    key: uid,
    occurredAt: '2026-03-01T10:00:00Z',
    source: 'test',
    payload: { ...TokenRegisteredV1.example, uid },
  });
  return Buffer.from(catalogue.encode(env));
}

describe('SharedDecodes: a record decoded once for the consumers that share its topic', () => {
  const at = (offset: string, topic = 'billing.events') => ({ topic, partition: 0, offset });

  it('gives the second reader the envelope the first decoded, then lets it go', () => {
    const decode = jest.spyOn(catalogue, 'decode');
    const shared = new SharedDecodes({ topics: ['billing.events'], readers: 2 });
    const a = shared.decode(catalogue, at('1'), record('U1'));
    const b = shared.decode(catalogue, at('1'), record('U1'));
    expect(b).toBe(a);
    expect(decode).toHaveBeenCalledTimes(1);
    expect(shared.size).toBe(0);
    expect(shared.counts).toEqual({ decoded: 1, shared: 1 });
    // a third read (a redelivery) decodes again
    expect(shared.decode(catalogue, at('1'), record('U1'))).toEqual(a);
    expect(decode).toHaveBeenCalledTimes(2);
    decode.mockRestore();
  });

  it('decodes again when the bytes at that position differ, or another catalogue asks', () => {
    const shared = new SharedDecodes({ topics: ['billing.events'] });
    const a = shared.decode(catalogue, at('7'), record('U1'));
    const b = shared.decode(catalogue, at('7'), record('U2'));
    expect((b as Envelope<{ uid: string }>).payload.uid).toBe('U2');
    const other = systemCatalogue();
    const c = shared.decode(other, at('7'), record('U2'));
    expect(c).not.toBe(b);
    expect(c).toEqual(b);
    expect(a).not.toBe(b);
  });

  it('keeps nothing of a record only one consumer reads (readers by event type: the others skip that type unread)', () => {
    const decode = jest.spyOn(catalogue, 'decode');
    const shared = new SharedDecodes({
      topics: ['billing.events'],
      readers: (type) => (type === 'registry.token_registered' ? 1 : 2),
    });
    shared.decode(catalogue, at('3'), record('U1'), 'registry.token_registered');
    expect(shared.size).toBe(0);
    const a = shared.decode(catalogue, at('4'), record('U2'), 'another.type');
    expect(shared.size).toBe(1);
    expect(shared.decode(catalogue, at('4'), record('U2'), 'another.type')).toBe(a);
    expect(decode).toHaveBeenCalledTimes(2);
    decode.mockRestore();
  });

  it('keeps nothing of topics not shared, of records that do not decode, and at most `max` records', () => {
    const shared = new SharedDecodes({ topics: ['billing.events'], max: 3 });
    shared.decode(catalogue, at('1', 'registry.tokens'), record('U1'));
    expect(shared.size).toBe(0);
    expect(() => shared.decode(catalogue, at('2'), Buffer.from('{not json'))).toThrow();
    expect(shared.size).toBe(0);
    for (let i = 0; i < 5; i++) shared.decode(catalogue, at(String(10 + i)), record(`U${i}`));
    expect(shared.size).toBe(3);
  });
});
