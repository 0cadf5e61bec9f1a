import fc from 'fast-check';
import { deriveId } from '@csms/contracts';
import { fastDeriveId } from './fast-id';

describe('fastDeriveId', () => {
  it('is deriveId (UUID v5 of the same name), for any parts including non-ASCII', () => {
    fc.assert(
      fc.property(fc.string(), fc.array(fc.oneof(fc.string({ unit: 'grapheme' }), fc.integer())), (kind, parts) => {
        expect(fastDeriveId(kind, ...parts)).toBe(deriveId(kind, ...parts));
      }),
    );
    expect(fastDeriveId('ocpp.message_received', 'CP-1', 'c0a8', '19223201', 'call')).toBe(
      deriveId('ocpp.message_received', 'CP-1', 'c0a8', '19223201', 'call'),
    );
  });
});
