import { v5 as uuidv5 } from 'uuid';
import { fastUuidV5, uuidNamespace } from './uuid-v5';

describe('fastUuidV5', () => {
  const ns = 'c8e5d2f3-4a6b-5d9c-8e1f-2b3c4d5e6f70';
  const bytes = uuidNamespace(ns);

  it('gives exactly what the uuid package gives, ASCII and not', () => {
    const names = ['', 'a', 'CS-1|TX-1', `${'x'.repeat(200)}|session.updated|7`, 'Zürich|1', 'station|🔌|2', '東京|tx'];
    for (let i = 0; i < 500; i++)
      names.push(`b7d4c1e2-3f5a-5c8b-9d0e-${String(i).padStart(12, '0')}|session.ended|${i}`);
    for (const name of names) expect(fastUuidV5(name, bytes)).toBe(uuidv5(name, ns));
  });

  it('rejects a namespace that is not a UUID', () => {
    expect(() => uuidNamespace('not-a-uuid')).toThrow(TypeError);
  });
});
