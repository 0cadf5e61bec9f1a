import type { Consumer, Kafka } from 'kafkajs';
import {
  commandStatusOf,
  decideUnheldCommand,
  isCommandAction,
  OcppSchemaValidator,
  remoteStartTokenOf,
} from '@csms/ocpp-gateway-core';
import { relaunchOnCrash, type RelaunchOwner } from '@csms/messaging';
import type { Logger } from '@csms/platform';
import type { OcppServer } from '../ocpp/ocpp-server';
import type { OcppCommandRequested } from './command-events';
import { commandCatalogue, interruptedDetail, type CommandService, type DispatchClaim } from './command.service';
import type { PresenceStore } from './presence';

/** how often an instance looks for commands nobody will complete any more (their sender died) */
const SWEEP_INTERVAL_MS = 30_000;
/** how long after a command's answer was due (or it expired) the sweep completes it */
const SWEEP_GRACE_MS = 60_000;

type Skipped = {
  status: 'not_sent';
  claim: Exclude<DispatchClaim['claim'], 'claimed'>;
  dispatchedBy?: string;
  dispatchedAt?: string;
};

/**
 * Reads ocpp.commands in a consumer group of this instance (every instance sees every command), sends
 * each command to its station when this instance holds the connection, and records the result. A
 * command for a station no instance holds is answered `offline`. The partition is not blocked while a
 * station answers: each command runs on its own, at most one outstanding call per station (OCPP-J §4.1.1).
 *
 * At most once: just before the frame goes out (the station's call slot held) the dispatch is committed to
 * the database (`claimDispatch`); a command already dispatched (by any instance, in any run: e.g. re-read
 * after this instance was killed before its offset was committed) is not sent again but completed
 * `interrupted`; an expired command is not sent (`expired`), also when it waited behind another call.
 * Commands an earlier run of this instance sent and never saw answered are completed `interrupted` at
 * start-up; a periodic sweep completes those of instances that never came back.
 */
export class CommandConsumer {
  private consumer?: Consumer;
  private readonly inFlight = new Set<Promise<void>>();
  /** command ids this process is working on (a command re-delivered meanwhile is not handled twice) */
  private readonly active = new Set<string>();
  private readonly validator = new OcppSchemaValidator();
  private sweeper?: NodeJS.Timeout;
  private running = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
    private readonly instance: string,
    private readonly server: OcppServer,
    private readonly commands: CommandService,
    private readonly presence: PresenceStore,
    private readonly now: () => Date,
    private readonly logger: Logger,
    private readonly callTimeoutMs: number,
  ) {}

  async start(): Promise<void> {
    const interrupted = await this.commands.interruptDispatchedBy(this.instance);
    if (interrupted > 0)
      this.logger.warn(
        { interrupted },
        'commands sent by an earlier run of this instance got no answer: completed interrupted',
      );
    this.running = true;
    await this.launch();
    this.sweeper = setInterval(() => {
      this.commands
        .sweep(this.instance, SWEEP_GRACE_MS)
        .then((n) => (n.interrupted + n.expired > 0 ? this.logger.warn(n, 'abandoned commands completed') : undefined))
        .catch((e) => this.logger.error({ err: e }, 'command sweep failed'));
    }, SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  private async launch(): Promise<void> {
    const consumer = this.kafka.consumer({
      groupId: `ocpp-gateway-commands-${this.instance}`,
      maxWaitTimeInMs: 200,
      // a group of one member: after a crash (of the instance or the broker) the broker waits for the dead
      // member's session to time out before the group can be joined again; 10 s, not kafkajs's 30 s
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      allowAutoTopicCreation: false,
      // a crash while stopping (e.g. stopped during a rejoin after a broker restart) must not restart it
      retry: { restartOnFailure: async () => this.running },
    });
    this.consumer = consumer;
    const joined = new Promise<void>((r) => consumer.on(consumer.events.GROUP_JOIN, () => r()));
    // kafkajs gives up on some errors (e.g. no group coordinator right after a broker restart): start afresh
    relaunchOnCrash(consumer, this.relauncher());
    await consumer.connect();
    // from the beginning for a new group; commands past their expiry are not sent (result `expired`)
    await consumer.subscribe({ topics: [this.topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message, partition }) => {
        let cmd: OcppCommandRequested['payload'];
        try {
          cmd = (commandCatalogue.decode(message.value) as OcppCommandRequested).payload;
        } catch (e) {
          this.logger.error({ err: e, partition, offset: message.offset }, 'command ignored: contract violation');
          return;
        }
        const p = this.handle(cmd).catch((e) =>
          this.logger.error({ err: e, commandId: cmd.commandId }, 'command failed'),
        );
        this.inFlight.add(p);
        void p.finally(() => this.inFlight.delete(p));
      },
    });
    await joined;
  }

  private relauncher(): RelaunchOwner {
    return {
      name: 'command consumer',
      logger: this.logger,
      running: () => this.running,
      current: () => this.consumer,
      launch: () => this.launch(),
    };
  }

  async handle(cmd: OcppCommandRequested['payload']): Promise<void> {
    if (this.active.has(cmd.commandId)) return; // re-delivered while this process still works on it
    this.active.add(cmd.commandId);
    try {
      await this.handleOnce(cmd);
    } finally {
      this.active.delete(cmd.commandId);
    }
  }

  private expired(cmd: OcppCommandRequested['payload']): boolean {
    return Date.parse(cmd.expiresAt) <= this.now().getTime();
  }

  private async handleOnce(cmd: OcppCommandRequested['payload']): Promise<void> {
    const conn = this.server.connection(cmd.stationId);
    const base = { gatewayInstance: this.instance, response: null, errorCode: null, detail: null };
    if (this.expired(cmd)) {
      if (conn || (await this.presence.holder(cmd.stationId)) === null)
        await this.commands.complete(cmd, { ...base, status: 'expired', protocol: conn?.protocol ?? null });
      return;
    }
    if (!conn) {
      const decision = decideUnheldCommand(
        await this.presence.holder(cmd.stationId),
        this.instance,
        await this.commands.hasResult(cmd.commandId),
      );
      if (decision === 'offline') await this.commands.complete(cmd, { ...base, status: 'offline', protocol: null });
      return;
    }
    const protocol = conn.protocol;
    if (!isCommandAction(protocol, cmd.action)) {
      await this.commands.complete(cmd, {
        ...base,
        status: 'not_supported',
        protocol,
        detail: `${cmd.action} is not a command of ${protocol}`,
      });
      return;
    }
    const check = this.validator.validate(protocol, cmd.action, 'request', cmd.payload);
    if (!check.ok) {
      await this.commands.complete(cmd, {
        ...base,
        status: 'invalid_request',
        protocol,
        errorCode: check.errorCode,
        detail: check.description,
      });
      return;
    }
    let claimed = false;
    const started = remoteStartTokenOf(cmd.action, cmd.payload);
    const outcome = await conn.call<Skipped>(cmd.action, cmd.payload, async () => {
      // the station's slot is ours: the command may have waited behind another call
      if (this.expired(cmd)) return { status: 'not_sent', claim: 'expired' };
      const answerDue = new Date(this.now().getTime() + this.callTimeoutMs);
      const c = await this.commands.claimDispatch(cmd, this.instance, protocol, answerDue);
      if (c.claim === 'claimed') {
        claimed = true;
        // a remote start's token is accepted from this station from now on, even before the registry has it
        if (started) this.server.remoteStarts.grant(cmd.stationId, started.uid, started.type, this.server.nowMs());
        return null;
      }
      return { status: 'not_sent', ...c };
    });
    if (started && !(outcome.status === 'accepted' && commandStatusOf(outcome.payload) === 'accepted'))
      this.server.remoteStarts.revoke(cmd.stationId, started.uid);
    switch (outcome.status) {
      case 'not_sent':
        if (outcome.claim === 'expired')
          await this.commands.complete(cmd, {
            ...base,
            status: 'expired',
            protocol,
            detail: 'expired before it could be sent',
          });
        else if (outcome.claim === 'dispatched') {
          this.logger.warn(
            { commandId: cmd.commandId, dispatchedBy: outcome.dispatchedBy, dispatchedAt: outcome.dispatchedAt },
            'command already sent once: not sent again',
          );
          await this.commands.complete(
            cmd,
            {
              ...base,
              status: 'interrupted',
              protocol,
              detail: interruptedDetail(
                outcome.dispatchedBy ?? null,
                outcome.dispatchedAt ?? null,
                'its answer was lost (the sending instance stopped or lost the connection)',
              ),
            },
            { sentHere: true },
          );
        } else this.logger.info({ commandId: cmd.commandId }, 'command already completed: not sent again');
        return;
      case 'accepted':
        await this.commands.complete(
          cmd,
          { ...base, status: commandStatusOf(outcome.payload), protocol, response: outcome.payload },
          { sentHere: true },
        );
        return;
      case 'error':
        await this.commands.complete(
          cmd,
          {
            ...base,
            status: 'error',
            protocol,
            errorCode: outcome.errorCode.slice(0, 100),
            detail: outcome.errorDescription.slice(0, 1000),
          },
          { sentHere: true },
        );
        return;
      case 'invalid_response':
        await this.commands.complete(
          cmd,
          { ...base, status: 'invalid_response', protocol, detail: outcome.detail.slice(0, 1000) },
          { sentHere: true },
        );
        return;
      case 'interrupted':
        await this.commands.complete(
          cmd,
          { ...base, status: 'interrupted', protocol, detail: interruptedDetail(this.instance, null, outcome.detail) },
          { sentHere: true },
        );
        return;
      case 'timed_out':
        await this.commands.complete(cmd, { ...base, status: 'timed_out', protocol }, { sentHere: true });
        return;
      case 'offline':
        // the connection closed before the frame went out; if the dispatch was already recorded it is ours
        await this.commands.complete(cmd, { ...base, status: 'offline', protocol }, { sentHere: claimed });
        return;
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.sweeper) clearInterval(this.sweeper);
    await this.consumer?.disconnect();
    await Promise.allSettled([...this.inFlight]);
  }
}
