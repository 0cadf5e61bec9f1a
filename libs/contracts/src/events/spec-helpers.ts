import { ContractError } from '../errors';
import type { Envelope } from '../envelope';
import { deriveId } from '../ids';

/** An envelope around `payload` as a producer of `source` wrote it (for reading it back through a catalogue in tests). */
export function specEnvelope(
  type: string,
  version: number,
  payload: unknown,
  opts: { key: string; source: string; id?: string; occurredAt?: string },
): Envelope {
  return {
    id: opts.id ?? deriveId('contracts-spec', type, version),
    type,
    version,
    occurredAt: opts.occurredAt ?? '2026-03-01T10:00:00.000Z',
    key: opts.key,
    source: opts.source,
    causationId: null,
    correlationId: null,
    payload,
  };
}

/** The ContractError `fn` throws; fails the test when it throws something else or nothing. */
export function contractError(fn: () => unknown): ContractError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ContractError);
    return e as ContractError;
  }
  throw new Error('expected a ContractError, nothing was thrown');
}
