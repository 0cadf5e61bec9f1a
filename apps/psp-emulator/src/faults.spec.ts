import { FaultBook, FaultSpecError } from './faults';

describe('FaultBook', () => {
  it('applies a fault to the next N matching operations, then forgets it', () => {
    const b = new FaultBook();
    b.add({ kind: 'decline', count: 2 });
    expect(b.take('decline', 'capture')).toBeUndefined();
    expect(b.take('decline', 'create_payment_intent')?.remaining).toBe(1);
    expect(b.take('decline', 'checkout_pay')?.remaining).toBe(0);
    expect(b.take('decline', 'create_payment_intent')).toBeUndefined();
    expect(b.list()).toEqual([]);
  });

  it('takes faults in the order they were added and per kind', () => {
    const b = new FaultBook();
    const first = b.add({ kind: 'timeout_after_success', operations: ['capture'], delayMs: 10 });
    b.add({ kind: 'timeout_after_success', operations: ['capture'], mode: 'drop' });
    expect(b.take('partial_capture', 'capture')).toBeUndefined();
    expect(b.take('timeout_after_success', 'capture')?.id).toBe(first.id);
    expect(b.take('timeout_after_success', 'capture')?.mode).toBe('drop');
  });

  it('refuses unknown kinds, operations and bad counts', () => {
    const b = new FaultBook();
    expect(() => b.add({ kind: 'meteor' as never })).toThrow(FaultSpecError);
    expect(() => b.add({ kind: 'decline', operations: ['teleport' as never] })).toThrow(FaultSpecError);
    expect(() => b.add({ kind: 'decline', count: 0 })).toThrow(FaultSpecError);
    expect(() => b.add({ kind: 'partial_capture', percent: 120 })).toThrow(FaultSpecError);
  });
});
