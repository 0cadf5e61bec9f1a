import { deepFreeze } from './freeze';

describe('deepFreeze', () => {
  it('freezes nested objects and arrays; a write throws (strict mode) and changes nothing', () => {
    const v = deepFreeze({ a: [{ b: 1 }, 2], c: { d: { e: 'x' } }, f: null });
    expect(() => {
      (v.a[0] as { b: number }).b = 2;
    }).toThrow(TypeError);
    expect(() => (v.a as unknown[]).push(3)).toThrow(TypeError);
    expect(() => {
      (v.c.d as { e: string }).e = 'y';
    }).toThrow(TypeError);
    expect(v).toEqual({ a: [{ b: 1 }, 2], c: { d: { e: 'x' } }, f: null });
  });

  it('returns the value itself; primitives and null pass through', () => {
    const o = { x: 1 };
    expect(deepFreeze(o)).toBe(o);
    expect(deepFreeze(3)).toBe(3);
    expect(deepFreeze(null)).toBeNull();
    expect(deepFreeze('s')).toBe('s');
  });

  it('a value reachable twice, or a cycle, is frozen once', () => {
    const shared = { n: 1 };
    const cyclic: Record<string, unknown> = { shared, again: shared };
    cyclic.self = cyclic;
    expect(Object.isFrozen(deepFreeze(cyclic))).toBe(true);
    expect(Object.isFrozen(shared)).toBe(true);
  });
});
