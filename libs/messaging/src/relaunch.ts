import type { Consumer } from 'kafkajs';
import type { Logger } from '@csms/platform';
import { backoffMs } from './watchdog';

/**
 * A long-lived kafkajs consumer that must not die silently. kafkajs gives up on a consumer, without restarting
 * it, after an error it does not count as retriable (e.g. no group coordinator right after a broker restart);
 * such a consumer is replaced: the old one is disconnected and its owner's `launch` starts a new one, with
 * back-off, until one starts or the owner stops. (The consuming services' `KafkaChunkConsumer` restarts itself
 * the same way from its own restart path, which its stall watchdog shares.)
 */
export interface RelaunchOwner {
  /** used in log lines, e.g. 'command consumer' */
  readonly name: string;
  readonly logger: Pick<Logger, 'error'>;
  /** false once the owner stops: no relaunch then */
  running(): boolean;
  /** the consumer the owner uses now; a crash of any other (an older one) is ignored */
  current(): Consumer | undefined;
  /** creates, starts and makes current a new consumer (wiring `relaunchOnCrash` onto it again) */
  launch(): Promise<void>;
}

export const RELAUNCH_BACKOFF = { initialMs: 500, maxMs: 10_000 } as const;

/** Replaces `consumer` when kafkajs reports a crash it will not restart from. */
export function relaunchOnCrash(consumer: Consumer, owner: RelaunchOwner): void {
  consumer.on(consumer.events.CRASH, (e) => {
    if (!e.payload.restart && owner.running() && owner.current() === consumer) {
      owner.logger.error({ err: e.payload.error }, `${owner.name} crashed without restart: restarting it`);
      void relaunch(consumer, owner);
    }
  });
}

async function relaunch(old: Consumer, owner: RelaunchOwner): Promise<void> {
  await old.disconnect().catch(() => undefined);
  for (let attempt = 1; owner.running(); attempt++) {
    try {
      await owner.launch();
      return;
    } catch (e) {
      owner.logger.error({ err: e, attempt }, `${owner.name} restart failed; retrying`);
      const failed = owner.current();
      if (failed !== old) await failed?.disconnect().catch(() => undefined);
      await new Promise((r) => setTimeout(r, backoffMs(attempt, RELAUNCH_BACKOFF.initialMs, RELAUNCH_BACKOFF.maxMs)));
    }
  }
}
