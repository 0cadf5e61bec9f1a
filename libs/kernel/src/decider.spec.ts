import { fold, handle, handleAll, replay, type Decider } from './decider';
import { DomainError } from './errors';

/** A tiny bank account: the decider every test below folds. */
type Cmd = { type: 'deposit'; amount: number } | { type: 'withdraw'; amount: number };
type Ev = { type: 'deposited'; amount: number } | { type: 'withdrawn'; amount: number };
type St = { balance: number; moves: number };
const account: Decider<Cmd, Ev, St> = {
  initialState: () => ({ balance: 0, moves: 0 }),
  decide: (c, s) => {
    if (c.type === 'deposit') return [{ type: 'deposited', amount: c.amount }];
    if (c.amount > s.balance)
      throw new DomainError('INSUFFICIENT_FUNDS', `cannot withdraw ${c.amount}`, { field: 'amount' });
    return [{ type: 'withdrawn', amount: c.amount }];
  },
  evolve: (s, e) => ({ balance: s.balance + (e.type === 'deposited' ? e.amount : -e.amount), moves: s.moves + 1 }),
};

describe('decider helpers', () => {
  it('fold applies the events in order, replay from the initial state', () => {
    const events: Ev[] = [
      { type: 'deposited', amount: 10 },
      { type: 'withdrawn', amount: 3 },
    ];
    expect(fold(account.evolve, { balance: 5, moves: 1 }, events)).toEqual({ balance: 12, moves: 3 });
    expect(replay(account, events)).toEqual({ balance: 7, moves: 2 });
    expect(replay(account, [])).toEqual({ balance: 0, moves: 0 });
  });

  it('handle decides and folds what it decided', () => {
    expect(handle(account, { type: 'deposit', amount: 4 }, { balance: 1, moves: 0 })).toEqual({
      events: [{ type: 'deposited', amount: 4 }],
      state: { balance: 5, moves: 1 },
    });
  });

  it('handle uses decideAndEvolve when the decider offers it', () => {
    const calls: string[] = [];
    const fast: Decider<Cmd, Ev, St> = {
      ...account,
      evolve: (s, e) => {
        calls.push('evolve');
        return account.evolve(s, e);
      },
      decideAndEvolve: (c, s) => {
        calls.push('decideAndEvolve');
        const events = account.decide(c, s);
        return { events, state: fold(account.evolve, s, events) };
      },
    };
    expect(handle(fast, { type: 'deposit', amount: 2 }, fast.initialState()).state.balance).toBe(2);
    expect(calls).toEqual(['decideAndEvolve']);
  });

  it('handleAll runs each command against the state the previous ones left', () => {
    const r = handleAll(account, [
      { type: 'deposit', amount: 10 },
      { type: 'withdraw', amount: 10 },
      { type: 'deposit', amount: 1 },
    ]);
    expect(r.events.map((e) => e.type)).toEqual(['deposited', 'withdrawn', 'deposited']);
    expect(r.state).toEqual({ balance: 1, moves: 3 });
    expect(() => handleAll(account, [{ type: 'withdraw', amount: 1 }])).toThrow(DomainError);
  });
});
