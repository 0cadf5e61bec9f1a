/**
 * Our own port for the message bus, so that the client library (kafkajs today) can be swapped.
 */
export interface OutgoingRecord {
  topic: string;
  /** null only for records whose original had no key (dead-lettered verbatim) */
  key: string | null;
  value: string | Buffer;
  headers?: Record<string, string>;
}

export interface RecordPublisher {
  /** Resolves only when the broker has acknowledged every record (acks=all). */
  publish(records: readonly OutgoingRecord[]): Promise<void>;
}

/** Where a consumed record came from: its position in the log. */
export interface RecordPosition {
  topic: string;
  partition: number;
  offset: string;
}
