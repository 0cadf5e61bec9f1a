import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from './store';

describe('Store journal', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'psp-store-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('replays the last state per id; a torn last line is skipped and does not swallow the next record', () => {
    const file = join(dir, 's.jsonl');
    const a = new Store(file);
    a.put('customers', { id: 'cus_1', v: 1 });
    a.put('customers', { id: 'cus_1', v: 2 });
    a.put('charges', { id: 'ch_1' });
    a.close();
    appendFileSync(file, '{"c":"customers","o":{"id":"cus_2"'); // killed mid-write
    const b = new Store(file);
    expect(b.get('customers', 'cus_1')).toEqual({ id: 'cus_1', v: 2 });
    expect(b.get('customers', 'cus_2')).toBeUndefined();
    b.put('customers', { id: 'cus_3' });
    b.close();
    const c = new Store(file);
    c.close();
    expect(c.get('customers', 'cus_3')).toEqual({ id: 'cus_3' });
    expect(c.all('charges')).toHaveLength(1);
    expect(readFileSync(file, 'utf8').split('\n').filter(Boolean)).toHaveLength(5);
  });

  it('atomically: nothing reaches the journal until the end, then all of it at once (also when it throws)', () => {
    const file = join(dir, 's.jsonl');
    const a = new Store(file);
    const journaled = () => readFileSync(file, 'utf8').split('\n').filter(Boolean).length;
    a.atomically(() => {
      a.put('payment_intents', { id: 'pi_1' });
      a.atomically(() => a.put('events', { id: 'evt_1' })); // nested: joins the outer one
      a.put('idempotency', { id: 'sk:key-1' });
      expect(journaled()).toBe(0); // a kill here leaves neither the payment nor its key
    });
    expect(journaled()).toBe(3);
    expect(() =>
      a.atomically(() => {
        a.put('charges', { id: 'ch_1' });
        throw new Error('after a change');
      }),
    ).toThrow('after a change');
    expect(journaled()).toBe(4); // already in memory, so journaled
    a.put('customers', { id: 'cus_1' }); // outside: written at once
    expect(journaled()).toBe(5);
    a.close();
    const b = new Store(file);
    b.close();
    expect([b.get('payment_intents', 'pi_1'), b.get('events', 'evt_1'), b.get('idempotency', 'sk:key-1')]).toEqual([
      { id: 'pi_1' },
      { id: 'evt_1' },
      { id: 'sk:key-1' },
    ]);
  });

  it('without a file it keeps everything in memory only', () => {
    const s = new Store();
    s.put('payouts', { id: 'po_1' });
    expect(s.size('payouts')).toBe(1);
    expect(s.replayed).toBe(0);
  });
});
