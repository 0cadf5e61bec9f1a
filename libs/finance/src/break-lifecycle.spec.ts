import { breakChanges, type KnownBreak } from './break-lifecycle';
import type { ReconBreak } from './reconcile';

const found = (breakId: string, reason: ReconBreak['reason'] = 'MISSING_CAPTURE'): ReconBreak => ({
  breakId,
  reason,
  sessionId: null,
  cdrId: null,
  paymentRef: null,
  currency: null,
  expected: null,
  actual: null,
  detail: '',
});
const known = (breakId: string, status: KnownBreak['status'], reason: KnownBreak['reason'] = 'MISSING_CAPTURE') => ({
  breakId,
  reason,
  status,
});

describe('breakChanges: what a run changes in the breaks queue', () => {
  it.each<[string, KnownBreak[], ReconBreak[], { detected: string[]; reopened: string[]; cleared: string[] }]>([
    ['an empty queue, nothing found', [], [], { detected: [], reopened: [], cleared: [] }],
    ['a new break is detected', [], [found('b1')], { detected: ['b1'], reopened: [], cleared: [] }],
    [
      'an open break found again changes nothing',
      [known('b1', 'open')],
      [found('b1')],
      { detected: [], reopened: [], cleared: [] },
    ],
    [
      'an open break no longer found is cleared (UNSETTLED after the payout arrives)',
      [known('b1', 'open', 'UNSETTLED_AFTER_N_DAYS')],
      [],
      { detected: [], reopened: [], cleared: ['b1'] },
    ],
    [
      'MISSING_CAPTURE no longer found after a late capture is cleared; another stays',
      [known('b1', 'open'), known('b2', 'open', 'MISSING_CDR')],
      [found('b2', 'MISSING_CDR')],
      { detected: [], reopened: [], cleared: ['b1'] },
    ],
    [
      'a resolved break no longer found stays resolved',
      [known('b1', 'resolved')],
      [],
      { detected: [], reopened: [], cleared: [] },
    ],
    [
      'a resolved break found again stays resolved',
      [known('b1', 'resolved')],
      [found('b1')],
      { detected: [], reopened: [], cleared: [] },
    ],
    [
      'a cleared break not found stays cleared',
      [known('b1', 'cleared')],
      [],
      { detected: [], reopened: [], cleared: [] },
    ],
    [
      'a cleared break found again is reopened',
      [known('b1', 'cleared')],
      [found('b1')],
      { detected: [], reopened: ['b1'], cleared: [] },
    ],
    [
      'every list in break id order, whatever the input order',
      [known('b9', 'open'), known('b3', 'open'), known('b5', 'cleared'), known('b4', 'cleared')],
      [found('b8'), found('b5'), found('b2'), found('b4')],
      { detected: ['b2', 'b8'], reopened: ['b4', 'b5'], cleared: ['b3', 'b9'] },
    ],
  ])('%s', (_what, k, f, want) => {
    const c = breakChanges(k, f);
    expect({
      detected: c.detected.map((b) => b.breakId),
      reopened: c.reopened.map((b) => b.breakId),
      cleared: c.cleared.map((b) => b.breakId),
    }).toEqual(want);
  });

  it('an incremental run clears only inside its scope', () => {
    const c = breakChanges([known('b1', 'open'), known('b2', 'open')], [], (b) => b.breakId === 'b2');
    expect(c.cleared.map((b) => b.breakId)).toEqual(['b2']);
  });

  it('the same inputs give the same answer (no clock, no randomness)', () => {
    const k = [known('b1', 'open'), known('b2', 'cleared')];
    const f = [found('b2'), found('b3')];
    expect(breakChanges(k, f)).toEqual(breakChanges([...k].reverse(), [...f].reverse()));
  });
});
