import type { Kafka } from 'kafkajs';
import type { Logger } from '@csms/platform';
import { backoffMs } from './watchdog';

/**
 * How long start-up waits, in all, for the broker to serve what a service needs (its topics' leaders, its
 * groups' coordinator) before it gives up and the service exits. A new broker (first start on a machine)
 * creates `__consumer_offsets` on the first FindCoordinator and makes each new topic's replicas a moment
 * after CreateTopics answers; meanwhile it says "This server does not host this topic-partition" or
 * "The coordinator is not available". Those are waited out; anything else still fails fast.
 */
export const STARTUP_TIMEOUT_MS = 60_000;

/** kafkajs error types that a broker gives while topics or groups are still being set up. */
const SETTLING = new Set([
  'UNKNOWN_TOPIC_OR_PARTITION',
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_FOR_PARTITION',
  'REPLICA_NOT_AVAILABLE',
  'REQUEST_TIMED_OUT',
  'GROUP_LOAD_IN_PROGRESS',
  'GROUP_COORDINATOR_NOT_AVAILABLE',
  'NOT_COORDINATOR_FOR_GROUP',
  'NOT_CONTROLLER',
  'REBALANCE_IN_PROGRESS',
  'UNKNOWN_LEADER_EPOCH',
  'FENCED_LEADER_EPOCH',
]);

/** kafkajs errors that say the broker is not reachable (yet) or did not answer in time. */
const UNREACHABLE = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSBrokerNotFound',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSTopicMetadataNotLoaded',
  'KafkaJSGroupCoordinatorNotFound',
]);

/**
 * True for the errors start-up waits out (a topic or group still settling on a new broker, a broker not
 * answering yet), looking through kafkajs' wrappers (retries exceeded, aggregate errors); false for the
 * rest (a bad replication factor, an authorisation error, a bug), which must fail the start at once.
 */
export function isSettlingError(err: unknown, depth = 0): boolean {
  if (typeof err !== 'object' || err === null || depth > 5) return false;
  const e = err as { type?: unknown; name?: unknown; originalError?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.type === 'string' && SETTLING.has(e.type)) return true;
  if (typeof e.name === 'string' && UNREACHABLE.has(e.name)) return true;
  if (Array.isArray(e.errors) && e.errors.length > 0)
    return e.errors.every(
      (x) => isSettlingError(x, depth + 1) || (x as { type?: unknown }).type === 'TOPIC_ALREADY_EXISTS',
    );
  return isSettlingError(e.originalError, depth + 1) || isSettlingError(e.cause, depth + 1);
}

export interface StartupRetryOptions {
  /** absolute time (ms since the epoch) after which the last error is thrown */
  deadline: number;
  logger?: Logger;
  initialMs?: number;
  maxMs?: number;
}

/** Runs `fn` until it succeeds, waiting with back-off after each settling error, until the deadline. */
export async function retryWhileSettling<T>(what: string, fn: () => Promise<T>, o: StartupRetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      const wait = backoffMs(attempt, o.initialMs ?? 200, o.maxMs ?? 5000);
      if (!isSettlingError(e) || Date.now() + wait > o.deadline) throw e;
      o.logger?.warn({ err: e, attempt, waitMs: wait }, `${what}: the broker is not ready yet; waiting`);
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

/**
 * Waits until the coordinator of each consumer group answers (DescribeGroups: FindCoordinator, then the
 * coordinator itself), so that consumers do not join while `__consumer_offsets` is still being created.
 */
export async function waitForGroupCoordinators(
  kafka: Kafka,
  groupIds: readonly string[],
  o: StartupRetryOptions,
): Promise<void> {
  if (groupIds.length === 0) return;
  const admin = kafka.admin();
  await retryWhileSettling('connecting the admin client', () => admin.connect(), o);
  try {
    // kafkajs throws the group's error (COORDINATOR_NOT_AVAILABLE, COORDINATOR_LOAD_IN_PROGRESS, ...) if it has one
    await retryWhileSettling(
      `waiting for the coordinator of ${groupIds.join(', ')}`,
      () => admin.describeGroups([...groupIds]),
      o,
    );
  } finally {
    await admin.disconnect();
  }
}
