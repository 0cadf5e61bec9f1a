import { Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type {
  CdrCreated,
  OcppCommandCompleted,
  SessionCostEstimated,
  SessionStartedEvent,
  SessionTariffSelected,
  TokenRegistered,
} from '@csms/contracts';
import type { HandlerContext } from '@csms/messaging';
import type { Envelope } from '@csms/contracts';
import {
  ConsumerController,
  OnChunkEnd,
  OnChunkStart,
  type ChunkEndContext,
  type ChunkStartContext,
} from '@csms/service-kit';
import { recordAdhocReceipt } from './adhoc/adhoc-effects';
import {
  InputsHandler,
  endRecordingSessions,
  recordSelectedSession,
  recordSessionInChunk,
  recordToken,
  recordUnbilled,
  startRecordingSessions,
} from './inputs.handler';

export const INPUTS = Symbol('payment-service:inputs');

/**
 * The deciding consumer of billing.events and session.events: each CDR and each session start becomes a command of
 * the payment decider, decided and saved in the consumer's transaction (inbox + state + ledger + intents + outbox).
 * billing.session_tariff_selected asks for the hold (the tariff's max_price, else the default), and
 * billing.session_cost_estimated feeds the running cost. session.updated and session.ended have no pattern: applied
 * with no effect.
 */
@ConsumerController()
export class PaymentInputsConsumer {
  constructor(@Inject(INPUTS) private readonly inputs: InputsHandler) {}

  @OnChunkStart()
  loadChunk(@Payload() events: Envelope[], @Ctx() ctx: ChunkStartContext): Promise<void> {
    return this.inputs.onChunkStart(ctx.manager, ctx.scratch, events);
  }

  @OnChunkEnd()
  flushChunk(@Ctx() ctx: ChunkEndContext): Promise<void> {
    return this.inputs.onChunkEnd(ctx.manager, ctx.scratch);
  }

  @EventPattern('cdr.created')
  cdrCreated(@Payload() event: CdrCreated, @Ctx() ctx: HandlerContext): Promise<void> {
    return this.inputs.cdrCreated(event, ctx);
  }

  @EventPattern('session.started')
  sessionStarted(@Payload() event: SessionStartedEvent, @Ctx() ctx: HandlerContext): Promise<void> {
    return this.inputs.sessionStarted(event, ctx);
  }

  /** the result of an ad-hoc payment's remote start (other commands' results: nothing) */
  @EventPattern('ocpp.command_completed')
  commandCompleted(@Payload() event: OcppCommandCompleted, @Ctx() ctx: HandlerContext): Promise<void> {
    return this.inputs.commandCompleted(event, ctx);
  }

  @EventPattern('billing.session_tariff_selected')
  tariffSelected(@Payload() event: SessionTariffSelected, @Ctx() ctx: HandlerContext): Promise<void> {
    return this.inputs.tariffSelected(event, ctx);
  }

  @EventPattern('billing.session_cost_estimated')
  costEstimated(@Payload() event: SessionCostEstimated, @Ctx() ctx: HandlerContext): Promise<void> {
    return this.inputs.costEstimated(event, ctx);
  }
}

/**
 * The recording consumer: the token registry copy (token -> billing account), the sessions' stations and
 * transaction ids, and the CDRs no account pays. Pure projections of the topics, no decision: a rebuild moves this
 * group back to offset zero and gets them back.
 */
@ConsumerController()
export class PaymentRecordsConsumer {
  /** a chunk's session starts: their tokens read at its start, their rows written at its end */
  @OnChunkStart()
  loadChunk(@Payload() events: Envelope[], @Ctx() ctx: ChunkStartContext): Promise<void> {
    return startRecordingSessions(ctx.manager, ctx.scratch, events);
  }

  @OnChunkEnd()
  flushChunk(@Ctx() ctx: ChunkEndContext): Promise<void> {
    return endRecordingSessions(ctx.manager, ctx.scratch);
  }

  @EventPattern('registry.token_registered')
  async tokenRegistered(@Payload() event: TokenRegistered, @Ctx() ctx: HandlerContext): Promise<void> {
    await recordToken(ctx.manager, event);
  }

  @EventPattern('session.started')
  async sessionStarted(@Payload() event: SessionStartedEvent, @Ctx() ctx: HandlerContext): Promise<void> {
    await recordSessionInChunk(ctx.manager, ctx.scratch, event);
  }

  @EventPattern('billing.session_tariff_selected')
  async tariffSelected(@Payload() event: SessionTariffSelected, @Ctx() ctx: HandlerContext): Promise<void> {
    await recordSelectedSession(ctx.manager, event);
  }

  @EventPattern('cdr.created')
  async cdrCreated(@Payload() event: CdrCreated, @Ctx() ctx: HandlerContext): Promise<void> {
    if (event.payload.billingAccountId === null) await recordUnbilled(ctx.manager, event, 'NO_BILLING_ACCOUNT');
    else await recordAdhocReceipt(ctx.manager, event);
  }
}
