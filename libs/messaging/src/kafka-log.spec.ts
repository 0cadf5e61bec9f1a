import { logLevel } from 'kafkajs';
import { kafkaLogLevel } from './kafka-log';

describe('kafkaLogLevel: kafkajs lines a new user should not be alarmed by, and the ones that stay', () => {
  it.each([
    [
      'partitioner notice',
      logLevel.WARN,
      { message: 'KafkaJS v2.0.0 switched default partitioner. To retain ...' },
      'debug',
    ],
    [
      'idempotent retries notice',
      logLevel.WARN,
      { message: 'Limiting retries for the idempotent producer may invalidate EoS guarantees' },
      'debug',
    ],
    [
      'coordinator loading',
      logLevel.ERROR,
      {
        message: 'Response InitProducerId(key: 22, version: 1)',
        error: "The coordinator is loading and hence can't process requests for this group",
      },
      'debug',
    ],
    [
      'coordinator not available',
      logLevel.ERROR,
      { message: 'Response GroupCoordinator(key: 10, version: 2)', error: 'The group coordinator is not available' },
      'debug',
    ],
    [
      'not leader',
      logLevel.ERROR,
      {
        message: 'Response ListOffsets(key: 2, version: 3)',
        error: 'This server is not the leader for that topic-partition',
      },
      'debug',
    ],
    [
      'new topic not hosted yet',
      logLevel.ERROR,
      { message: 'Response Metadata(key: 3, version: 6)', error: 'This server does not host this topic-partition' },
      'debug',
    ],
    [
      'topics created concurrently',
      logLevel.ERROR,
      { message: 'Response CreateTopics(key: 19, version: 2)', error: 'Topic creation errors' },
      'debug',
    ],
    [
      'retriable crash kafkajs restarts',
      logLevel.ERROR,
      {
        message:
          "Crash: KafkaJSProtocolError: The coordinator is loading and hence can't process requests for this group",
      },
      'warn',
    ],
    ['restart notice', logLevel.ERROR, { message: 'Restarting the consumer in 100ms', retryTime: 100 }, 'warn'],
  ])('%s → %s', (_name, level, entry, expected) => {
    expect(kafkaLogLevel(level, entry)).toBe(expected);
  });

  it.each([
    [
      'an authorisation failure',
      logLevel.ERROR,
      {
        message: 'Response Produce(key: 0, version: 7)',
        error: 'Not authorized to access topics: [Topic authorization failed.]',
      },
      'error',
    ],
    [
      'a record too large',
      logLevel.ERROR,
      {
        message: 'Response Produce(key: 0, version: 7)',
        error: 'The request included a message larger than the max message size the server will accept',
      },
      'error',
    ],
    [
      'a crash for a real reason',
      logLevel.ERROR,
      { message: 'Crash: KafkaJSNonRetriableError: Invalid record' },
      'error',
    ],
    ['a broker connection failure', logLevel.ERROR, { message: 'Failed to connect to broker, reconnecting' }, 'error'],
    [
      'a rebalance notice',
      logLevel.WARN,
      { message: 'Consumer is not aware of all assigned partitions, refreshing metadata' },
      'warn',
    ],
    ['an info line', logLevel.INFO, { message: 'Consumer has joined the group' }, 'info'],
  ])('keeps %s at its level', (_name, level, entry, expected) => {
    expect(kafkaLogLevel(level, entry)).toBe(expected);
  });
});
