import type { Envelope } from '@csms/contracts';
import { eventCode } from './consumer-metrics';
import { SERVICE_METRICS, seriesNames } from './metric-catalogue';

const env = (type: string, payload: unknown) =>
  ({
    id: 'x',
    type,
    version: 1,
    key: 'k',
    occurredAt: '2026-01-01T00:00:00Z',
    source: 's',
    payload,
  }) as unknown as Envelope;

describe('eventCode', () => {
  it('is the payload code of a failure event', () => {
    expect(eventCode(env('session.pricing_failed', { code: 'NO_ASSIGNMENT', detail: 'x' }))).toBe('NO_ASSIGNMENT');
  });

  it('is empty for events without a code, or whose code is not an error code (bounded label values)', () => {
    expect(eventCode(env('session.started', { sessionId: 'a' }))).toBe('');
    expect(eventCode(env('x.y', { code: 'free text with spaces' }))).toBe('');
    expect(eventCode(env('x.y', { code: 42 }))).toBe('');
    expect(eventCode(env('x.y', null))).toBe('');
  });
});

describe('SERVICE_METRICS', () => {
  it('names every metric csms_…, once, counters ending in _total', () => {
    const names = Object.values(SERVICE_METRICS).map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
    for (const m of Object.values(SERVICE_METRICS)) {
      expect(m.name).toMatch(/^csms_[a-z_]+$/);
      expect(m.name.endsWith('_total')).toBe(m.type === 'counter');
    }
  });

  it('gives a histogram its bucket, sum and count series', () => {
    expect(seriesNames(SERVICE_METRICS.consumerChunkSeconds)).toEqual([
      'csms_consumer_chunk_seconds',
      'csms_consumer_chunk_seconds_bucket',
      'csms_consumer_chunk_seconds_sum',
      'csms_consumer_chunk_seconds_count',
    ]);
    expect(seriesNames(SERVICE_METRICS.outboxDepth)).toEqual(['csms_outbox_depth']);
  });
});
