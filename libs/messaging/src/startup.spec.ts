import {
  KafkaJSAggregateError,
  KafkaJSConnectionError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
} from 'kafkajs';
import { isSettlingError, retryWhileSettling } from './startup';

/** A broker's protocol error as kafkajs raises it (type, code, retriable flag). */
const protocol = (type: string, code: number, retriable: boolean) =>
  new KafkaJSProtocolError(Object.assign(new Error(type), { type, code, retriable }));

describe('isSettlingError: what start-up waits out on a new broker, and what fails at once', () => {
  it.each([
    ['does not host this topic-partition', protocol('UNKNOWN_TOPIC_OR_PARTITION', 3, true), true],
    ['leader not available', protocol('LEADER_NOT_AVAILABLE', 5, true), true],
    ['coordinator not available', protocol('GROUP_COORDINATOR_NOT_AVAILABLE', 15, true), true],
    ['coordinator is loading', protocol('GROUP_LOAD_IN_PROGRESS', 14, true), true],
    ['not the coordinator', protocol('NOT_COORDINATOR_FOR_GROUP', 16, true), true],
    ['connection refused', new KafkaJSConnectionError('Connection error: connect ECONNREFUSED'), true],
    [
      'retries exceeded around a settling error',
      new KafkaJSNumberOfRetriesExceeded(protocol('UNKNOWN_TOPIC_OR_PARTITION', 3, true), {
        retryCount: 8,
        retryTime: 100,
      }),
      true,
    ],
    [
      'topics created elsewhere meanwhile, others still settling',
      new KafkaJSAggregateError('Topic creation errors', [
        protocol('TOPIC_ALREADY_EXISTS', 36, false),
        protocol('LEADER_NOT_AVAILABLE', 5, true),
      ]),
      true,
    ],
    ['invalid replication factor', protocol('INVALID_REPLICATION_FACTOR', 38, false), false],
    ['topic authorisation failed', protocol('TOPIC_AUTHORIZATION_FAILED', 29, false), false],
    [
      'aggregate with a real error',
      new KafkaJSAggregateError('Topic creation errors', [protocol('INVALID_REPLICATION_FACTOR', 38, false)]),
      false,
    ],
    ['a plain bug', new TypeError('x is undefined'), false],
    ['not an error', 'nope', false],
  ])('%s', (_what, err, expected) => {
    expect(isSettlingError(err)).toBe(expected);
  });
});

describe('retryWhileSettling', () => {
  it('tries again after settling errors until it succeeds', async () => {
    let calls = 0;
    const v = await retryWhileSettling(
      'test',
      async () => {
        if (++calls < 3) throw protocol('UNKNOWN_TOPIC_OR_PARTITION', 3, true);
        return 'ok';
      },
      { deadline: Date.now() + 10_000, initialMs: 1, maxMs: 2 },
    );
    expect([v, calls]).toEqual(['ok', 3]);
  });

  it('throws any other error at once', async () => {
    let calls = 0;
    const failing = retryWhileSettling(
      'test',
      async () => {
        calls++;
        throw protocol('INVALID_REPLICATION_FACTOR', 38, false);
      },
      { deadline: Date.now() + 10_000, initialMs: 1 },
    );
    await expect(failing).rejects.toThrow('INVALID_REPLICATION_FACTOR');
    expect(calls).toBe(1);
  });

  it('gives up with the last settling error once the deadline has passed', async () => {
    let calls = 0;
    const failing = retryWhileSettling(
      'test',
      async () => {
        calls++;
        throw protocol('GROUP_COORDINATOR_NOT_AVAILABLE', 15, true);
      },
      { deadline: Date.now() - 1, initialMs: 1 },
    );
    await expect(failing).rejects.toThrow('GROUP_COORDINATOR_NOT_AVAILABLE');
    expect(calls).toBe(1);
  });
});
