import { StallDetector, backoffMs } from './watchdog';
import { classifyFailure } from './failures';
import { ContractError, CsmsError } from '@csms/contracts';

describe('StallDetector', () => {
  it('given signs of life, a consumer is not stalled until the timeout passes without one', () => {
    const d = new StallDetector(1000, 0);
    expect(d.isStalled(1000)).toBe(false);
    expect(d.isStalled(1001)).toBe(true);
    d.alive(1001);
    expect(d.isStalled(2000)).toBe(false);
    expect(d.silentForMs(2500)).toBe(1499);
  });
  it('ignores a sign of life from the past (clock order)', () => {
    const d = new StallDetector(1000, 5000);
    d.alive(100);
    expect(d.silentForMs(5500)).toBe(500);
  });
});

describe('backoffMs', () => {
  it.each([
    [1, 100],
    [2, 200],
    [3, 400],
    [8, 12800],
    [9, 20000],
    [50, 20000],
  ])('attempt %i waits %i ms (100 ms doubling, capped at 20 s)', (attempt, ms) => {
    expect(backoffMs(attempt, 100, 20000)).toBe(ms);
  });
});

describe('classifyFailure', () => {
  const pg = (code: string) => Object.assign(new Error('pg'), { code });
  it.each([
    ['an error flagged retriable', new CsmsError('X', 'x', { retriable: true }), 'retry'],
    ['an error flagged not retriable', new CsmsError('X', 'x', { retriable: false }), 'park'],
    ['a contract violation', new ContractError('INVALID_PAYLOAD', 'bad'), 'park'],
    ['a kafkajs retriable error', Object.assign(new Error('leader not available'), { retriable: true }), 'retry'],
    ['PostgreSQL connection failure (08006)', pg('08006'), 'retry'],
    ['PostgreSQL admin shutdown (57P01)', pg('57P01'), 'retry'],
    ['PostgreSQL too many connections (53300)', pg('53300'), 'retry'],
    ['a serialization failure (40001)', pg('40001'), 'retry'],
    ['a deadlock (40P01)', pg('40P01'), 'retry'],
    ['a refused TCP connection', pg('ECONNREFUSED'), 'retry'],
    ['a dropped pg connection', new Error('Connection terminated unexpectedly'), 'retry'],
    ['a unique violation (23505)', pg('23505'), 'unknown'],
    ['a TypeError in a handler', new TypeError('x is undefined'), 'unknown'],
    ['a thrown string', 'boom', 'unknown'],
  ])('%s -> %s', (_what, err, verdict) => {
    expect(classifyFailure(err)).toBe(verdict);
  });
});
