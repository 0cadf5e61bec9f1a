import { instantReader } from './context';

/** The decider reads instants through the kernel (epochMsOf; utcMs is checked there), remembering the last one read. */
describe('instants', () => {
  it('the instant reader reads every instant as Date.parse does, also when it alternates between instants', () => {
    const read = instantReader();
    const texts: string[] = [];
    for (let k = 0; k < 2000; k++) {
      const ms = Date.UTC(2014, 11, 31) + k * 7_654_321_987;
      const iso = new Date(ms).toISOString();
      texts.push(iso, iso, iso.slice(0, 19) + 'Z', `${iso.slice(0, 19)}+01:00`, iso.slice(0, 19) + '.5Z');
    }
    texts.push('2001-01-01T00:00:00Z', '2026-03-29T02:30:00.000+02:00', '2015-01-01T00:00:00.000Z');
    const wrong = texts.filter((t) => read(t) !== Date.parse(t));
    expect(wrong).toEqual([]);
  });
});
