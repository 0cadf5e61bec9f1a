import { logLevel } from 'kafkajs';

export type LogMethod = 'error' | 'warn' | 'info' | 'debug';

const LEVELS: Record<number, LogMethod> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
  [logLevel.NOTHING]: 'debug',
};

/**
 * Broker answers that kafkajs retries by itself and that are normal while a broker starts, a topic was just
 * created or a group rebalances. kafkajs logs each failed response at ERROR before retrying it; if its retries run
 * out, the caller gets the error and our code logs it (with its own context), so the response line adds nothing.
 */
const TRANSIENT_RESPONSE_ERRORS = [
  /coordinator is loading/i,
  /coordinator is not available/i,
  /not the correct coordinator/i,
  /not the leader for that topic-partition/i,
  /does not host this topic-partition/i,
  /no leader for this topic-partition/i,
  /leader is not available/i,
  /group is rebalancing/i,
  /rebalance in progress/i,
  // CreateTopics answered for topics another service created a moment earlier; admin.createTopics treats
  // TOPIC_ALREADY_EXISTS as success, and any other creation failure is thrown to ensureTopics' caller
  /^Topic creation errors$/,
];

/**
 * The level a kafkajs log line is written at. kafkajs' own levels are kept, except for lines known to be benign:
 * - the partitioner notice (our producers name their partitioner, so it should not appear);
 * - "Limiting retries for the idempotent producer may invalidate EoS guarantees": true of kafkajs alone, but our
 *   publisher replaces its producer after any send that ran out of retries (a fresh producer id, so no rewound
 *   sequence numbers), which is what the warning is about;
 * - failed responses with a transient, retried error (above);
 * - a consumer crash that kafkajs restarts by itself because its cause is retriable: a warning, not an error
 *   (a crash without restart stays an error; our consumer also restarts it).
 */
export function kafkaLogLevel(
  level: number,
  entry: { message?: unknown; error?: unknown; retryTime?: unknown },
): LogMethod {
  const message = typeof entry.message === 'string' ? entry.message : '';
  const error = typeof entry.error === 'string' ? entry.error : '';
  if (message.startsWith('KafkaJS v2.0.0 switched default partitioner')) return 'debug';
  if (message.startsWith('Limiting retries for the idempotent producer')) return 'debug';
  if (message.startsWith('Response ') && TRANSIENT_RESPONSE_ERRORS.some((re) => re.test(error))) return 'debug';
  if (message.startsWith('Crash: ') && TRANSIENT_RESPONSE_ERRORS.some((re) => re.test(message))) return 'warn';
  if (message.startsWith('Restarting the consumer in ')) return 'warn';
  return LEVELS[level] ?? 'info';
}
