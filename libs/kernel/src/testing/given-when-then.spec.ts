import { AssertionError } from 'node:assert';
import type { Decider } from '../decider';
import { DomainError } from '../errors';
import { given, givenCommands } from './given-when-then';

type Cmd = { type: 'open'; id: string } | { type: 'close'; id: string };
type Ev = { type: 'opened'; id: string } | { type: 'closed'; id: string };
type St = { open: readonly string[] };
const doors: Decider<Cmd, Ev, St> = {
  initialState: () => ({ open: [] }),
  decide: (c, s) => {
    const isOpen = s.open.includes(c.id);
    if (c.type === 'open') return isOpen ? [] : [{ type: 'opened', id: c.id }];
    if (!isOpen) throw new DomainError('DOOR_NOT_OPEN', `door ${c.id} is not open`, { field: 'id' });
    return [{ type: 'closed', id: c.id }];
  },
  evolve: (s, e) => ({ open: e.type === 'opened' ? [...s.open, e.id] : s.open.filter((x) => x !== e.id) }),
};

describe('given/when/then', () => {
  it('given events, when a command, then exactly what it decided (not the history)', () => {
    const o = given(doors, [{ type: 'opened', id: 'a' }])
      .when({ type: 'close', id: 'a' }, { type: 'open', id: 'b' })
      .then([
        { type: 'closed', id: 'a' },
        { type: 'opened', id: 'b' },
      ]);
    expect(o.state).toEqual({ open: ['b'] });
  });

  it('then fails when the events differ, and when a command was refused', () => {
    expect(() =>
      given(doors)
        .when({ type: 'open', id: 'a' })
        .then([{ type: 'opened', id: 'b' }]),
    ).toThrow(AssertionError);
    expect(() => given(doors).when({ type: 'open', id: 'a' }).then([])).toThrow(AssertionError);
    expect(() => given(doors).when({ type: 'close', id: 'a' }).then([])).toThrow(
      /refused: DomainError: door a is not open/,
    );
  });

  it('thenError returns the refusal; it fails on another code or when nothing was refused', () => {
    const err = given(doors).when({ type: 'close', id: 'x' }).thenError('DOOR_NOT_OPEN');
    expect(err).toMatchObject({ code: 'DOOR_NOT_OPEN', field: 'id', retriable: false });
    expect(() => given(doors).when({ type: 'close', id: 'x' }).thenError('OTHER')).toThrow(
      /expected error code OTHER, got DOOR_NOT_OPEN/,
    );
    expect(() => given(doors).when({ type: 'open', id: 'x' }).thenError('DOOR_NOT_OPEN')).toThrow(/expected a refusal/);
  });

  it('thenError rethrows what is not a domain error (a bug, not a refusal)', () => {
    const broken: Decider<Cmd, Ev, St> = {
      ...doors,
      decide: () => {
        throw new TypeError('boom');
      },
    };
    expect(() => given(broken).when({ type: 'open', id: 'a' }).thenError('X')).toThrow(TypeError);
  });

  it('keeps the events decided before a refusal', () => {
    const o = given(doors).when({ type: 'open', id: 'a' }, { type: 'close', id: 'b' });
    expect(o.events).toEqual([{ type: 'opened', id: 'a' }]);
    expect(o.state).toEqual({ open: ['a'] });
    expect(o.error).toBeInstanceOf(DomainError);
  });

  it('givenCommands decides the history; thenCheck sees the events and the state', () => {
    const g = givenCommands(doors, [
      { type: 'open', id: 'a' },
      { type: 'open', id: 'a' },
      { type: 'open', id: 'b' },
    ]);
    expect(g.history).toEqual([
      { type: 'opened', id: 'a' },
      { type: 'opened', id: 'b' },
    ]);
    expect(g.state).toEqual({ open: ['a', 'b'] });
    let seen = 0;
    g.when({ type: 'close', id: 'b' }).thenCheck((events, state) => {
      seen = events.length;
      expect(state.open).toEqual(['a']);
    });
    expect(seen).toBe(1);
    expect(() => givenCommands(doors, [{ type: 'close', id: 'a' }])).toThrow(DomainError);
  });
});
