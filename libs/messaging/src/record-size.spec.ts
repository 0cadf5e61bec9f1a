import {
  KafkaJSConnectionError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
} from 'kafkajs';
import {
  BATCH_OVERHEAD_BYTES,
  ENVELOPE_MARGIN_BYTES,
  HEADER_OVERHEAD_BYTES,
  RECORD_OVERHEAD_BYTES,
  RecordTooLargeError,
  checkRecordSize,
  httpBodyLimit,
  recordBatchBytes,
  recordRefusal,
} from './record-size';
import { DomainError } from '@csms/kernel';

const base = BATCH_OVERHEAD_BYTES + RECORD_OVERHEAD_BYTES;

describe('recordBatchBytes: an upper bound of a one-record batch as the broker measures it', () => {
  it.each([
    ['empty value, no key', { key: null, value: '' }, base],
    ['key and value', { key: 'k1', value: 'abc' }, base + 2 + 3],
    ['multi-byte UTF-8 counts bytes, not characters', { key: 'é', value: '€' }, base + 2 + 3],
    ['a Buffer value', { key: 'k', value: Buffer.alloc(10) }, base + 1 + 10],
    [
      'headers: name, value and two varints each',
      { key: 'k', value: 'v', headers: { 'event-id': 'x', a: '' } },
      base + 1 + 1 + 2 * HEADER_OVERHEAD_BYTES + 8 + 1 + 1,
    ],
  ])('%s', (_, record, expected) => {
    expect(recordBatchBytes(record)).toBe(expected);
  });
});

describe('checkRecordSize', () => {
  const record = { topic: 't', key: 'k', value: 'x'.repeat(1000) };
  const size = recordBatchBytes(record);

  it.each([
    ['at the limit', size, false],
    ['above it', size + 1, false],
    ['one byte short', size - 1, true],
  ])('a record %s (limit %s) is refused: %s', (_, limit, refused) => {
    const check = () => checkRecordSize(record, limit, { id: 'e1', type: 'test.thing' });
    if (refused) expect(check).toThrow(RecordTooLargeError);
    else expect(check).not.toThrow();
  });

  it('says the limit, the size, the topic and the event, and is not retriable', () => {
    let err: unknown;
    try {
      checkRecordSize(record, 100, { id: 'e1', type: 'test.thing' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RecordTooLargeError);
    expect(err).toBeInstanceOf(DomainError);
    expect(err).toMatchObject({
      code: 'RECORD_TOO_LARGE',
      retriable: false,
      details: { limit: 100, size, topic: 't', eventId: 'e1', eventType: 'test.thing' },
    });
  });
});

describe('httpBodyLimit', () => {
  it.each([
    [1024 * 1024, 1024 * 1024 - ENVELOPE_MARGIN_BYTES],
    [65536, 65536 - ENVELOPE_MARGIN_BYTES],
  ])('max.message.bytes %i gives a body limit of %i', (limit, body) => {
    expect(httpBodyLimit(limit)).toBe(body);
  });

  it('refuses a limit that leaves no room for a body', () => {
    expect(() => httpBodyLimit(2 * ENVELOPE_MARGIN_BYTES)).toThrow(/leaves no room/);
  });
});

describe('recordRefusal: which publish failures are a record refused for good', () => {
  const protocol = (type: string, retriable: boolean) =>
    new KafkaJSProtocolError({ type, code: 0, retriable, message: `${type} from the broker` } as never);
  it.each([
    [
      'MESSAGE_TOO_LARGE as kafkajs throws it (wrapped by its retrier)',
      new (KafkaJSNonRetriableError as unknown as new (e: Error, o: { cause: Error }) => Error)(
        protocol('MESSAGE_TOO_LARGE', false),
        { cause: protocol('MESSAGE_TOO_LARGE', false) },
      ),
      'MESSAGE_TOO_LARGE',
    ],
    ['a bare RECORD_LIST_TOO_LARGE', protocol('RECORD_LIST_TOO_LARGE', false), 'RECORD_LIST_TOO_LARGE'],
    ['INVALID_RECORD', protocol('INVALID_RECORD', false), 'INVALID_RECORD'],
    ['our own size check', new RecordTooLargeError(2000, 1000, 't'), 'RECORD_TOO_LARGE'],
    [
      'retries exhausted while the broker is away (non-retriable, but not the record)',
      new KafkaJSNumberOfRetriesExceeded(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED'), {
        retryCount: 5,
        retryTime: 1000,
      }),
      undefined,
    ],
    [
      'a non-retriable error that is not about a record',
      new KafkaJSNonRetriableError(protocol('TOPIC_AUTHORIZATION_FAILED', false)),
      undefined,
    ],
    ['a retriable broker answer', protocol('NOT_LEADER_FOR_PARTITION', true), undefined],
    ['a plain error', new Error('boom'), undefined],
    ['not an error', 'boom', undefined],
  ])('%s', (_, err, code) => {
    expect(recordRefusal(err)?.code).toBe(code);
  });
});
