import { Kafka, logLevel, type KafkaConfig, type LogEntry } from 'kafkajs';
import type { Logger } from '@csms/platform';
import { kafkaLogLevel } from './kafka-log';

export interface KafkaOptions {
  brokers: string[];
  clientId: string;
  logger: Logger;
  /** kafkajs connection timeout in ms */
  connectionTimeout?: number;
}

/** One kafkajs client per process, logging through our JSON logger (known-benign lines lowered: `kafkaLogLevel`). */
export function createKafka(opts: KafkaOptions): Kafka {
  const log = opts.logger.child({ component: 'kafkajs' });
  const config: KafkaConfig = {
    clientId: opts.clientId,
    brokers: opts.brokers,
    connectionTimeout: opts.connectionTimeout ?? 3000,
    retry: { initialRetryTime: 100, retries: 8 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, label, log: entry }: LogEntry) => {
        const { message, ...rest } = entry;
        log[kafkaLogLevel(level, entry)]({ ...rest, kafkaLevel: label }, message);
      },
  };
  return new Kafka(config);
}
