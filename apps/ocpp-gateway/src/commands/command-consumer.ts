import type { Consumer, Kafka } from 'kafkajs';
import { commandStatusOf, decideUnheldCommand, isCommandAction, OcppSchemaValidator } from '@csms/ocpp-gateway-core';
import type { Logger } from '@csms/platform';
import type { OcppServer } from '../ocpp/ocpp-server';
import type { OcppCommandRequested } from './command-events';
import { commandCatalogue, type CommandService } from './command.service';
import type { PresenceStore } from './presence';

/**
 * Reads ocpp.commands in a consumer group of this instance (every instance sees every command), sends
 * each command to its station when this instance holds the connection, and records the result. A
 * command for a station no instance holds is answered `offline`. The partition is not blocked while a
 * station answers: each command runs on its own, at most one outstanding call per station (OCPP-J §4.1.1).
 */
export class CommandConsumer {
  private consumer?: Consumer;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly validator = new OcppSchemaValidator();

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
    private readonly instance: string,
    private readonly server: OcppServer,
    private readonly commands: CommandService,
    private readonly presence: PresenceStore,
    private readonly now: () => Date,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    this.consumer = this.kafka.consumer({ groupId: `ocpp-gateway-commands-${this.instance}`, maxWaitTimeInMs: 200, allowAutoTopicCreation: false });
    const joined = new Promise<void>((r) => this.consumer!.on(this.consumer!.events.GROUP_JOIN, () => r()));
    await this.consumer.connect();
    // from the beginning for a new group; commands past their expiry are not sent (result `expired`)
    await this.consumer.subscribe({ topics: [this.topic], fromBeginning: true });
    await this.consumer.run({
      eachMessage: async ({ message, partition }) => {
        let cmd: OcppCommandRequested['payload'];
        try {
          cmd = (commandCatalogue.decode(message.value) as OcppCommandRequested).payload;
        } catch (e) {
          this.logger.error({ err: e, partition, offset: message.offset }, 'command ignored: contract violation');
          return;
        }
        const p = this.handle(cmd).catch((e) => this.logger.error({ err: e, commandId: cmd.commandId }, 'command failed'));
        this.inFlight.add(p);
        void p.finally(() => this.inFlight.delete(p));
      },
    });
    await joined;
  }

  async handle(cmd: OcppCommandRequested['payload']): Promise<void> {
    const conn = this.server.connection(cmd.stationId);
    const base = { gatewayInstance: this.instance, response: null, errorCode: null, detail: null };
    if (Date.parse(cmd.expiresAt) <= this.now().getTime()) {
      if (conn || (await this.presence.holder(cmd.stationId)) === null) await this.commands.complete(cmd, { ...base, status: 'expired', protocol: conn?.protocol ?? null });
      return;
    }
    if (!conn) {
      const decision = decideUnheldCommand(await this.presence.holder(cmd.stationId), this.instance, await this.commands.hasResult(cmd.commandId));
      if (decision === 'offline') await this.commands.complete(cmd, { ...base, status: 'offline', protocol: null });
      return;
    }
    const protocol = conn.protocol;
    if (!isCommandAction(protocol, cmd.action)) {
      await this.commands.complete(cmd, { ...base, status: 'not_supported', protocol, detail: `${cmd.action} is not a command of ${protocol}` });
      return;
    }
    const check = this.validator.validate(protocol, cmd.action, 'request', cmd.payload);
    if (!check.ok) {
      await this.commands.complete(cmd, { ...base, status: 'invalid_request', protocol, errorCode: check.errorCode, detail: check.description });
      return;
    }
    const outcome = await conn.call(cmd.action, cmd.payload);
    switch (outcome.status) {
      case 'accepted':
        await this.commands.complete(cmd, { ...base, status: commandStatusOf(outcome.payload), protocol, response: outcome.payload });
        return;
      case 'error':
        await this.commands.complete(cmd, { ...base, status: 'error', protocol, errorCode: outcome.errorCode.slice(0, 100), detail: outcome.errorDescription.slice(0, 1000) });
        return;
      case 'invalid_response':
        await this.commands.complete(cmd, { ...base, status: 'invalid_response', protocol, detail: outcome.detail.slice(0, 1000) });
        return;
      case 'timed_out':
      case 'offline':
        await this.commands.complete(cmd, { ...base, status: outcome.status, protocol });
        return;
    }
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
    await Promise.allSettled([...this.inFlight]);
  }
}
