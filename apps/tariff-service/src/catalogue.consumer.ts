import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { Envelope } from '@csms/contracts';
import type { HandlerContext } from '@csms/messaging';
import { ConsumerController } from '@csms/service-kit';
import { applyCatalogueEvent } from './catalogue';

/**
 * The consumer of tariff.events and the registry topics: each event projected into the catalogue and registry
 * tables (`applyCatalogueEvent`, the same projection the API applies in the transaction that emits an event).
 */
@ConsumerController()
export class CatalogueConsumer {
  @EventPattern('tariff.version_published')
  versionPublished(@Payload() event: Envelope, @Ctx() ctx: HandlerContext): Promise<void> {
    return applyCatalogueEvent(ctx.manager, event);
  }

  @EventPattern('tariff.assignment_set')
  assignmentSet(@Payload() event: Envelope, @Ctx() ctx: HandlerContext): Promise<void> {
    return applyCatalogueEvent(ctx.manager, event);
  }

  @EventPattern('meter.key_set')
  meterKeySet(@Payload() event: Envelope, @Ctx() ctx: HandlerContext): Promise<void> {
    return applyCatalogueEvent(ctx.manager, event);
  }

  @EventPattern('meter.signature_policy_set')
  signaturePolicySet(@Payload() event: Envelope, @Ctx() ctx: HandlerContext): Promise<void> {
    return applyCatalogueEvent(ctx.manager, event);
  }

  @EventPattern('registry.station_registered')
  stationRegistered(@Payload() event: Envelope, @Ctx() ctx: HandlerContext): Promise<void> {
    return applyCatalogueEvent(ctx.manager, event);
  }

  @EventPattern('registry.token_registered')
  tokenRegistered(@Payload() event: Envelope, @Ctx() ctx: HandlerContext): Promise<void> {
    return applyCatalogueEvent(ctx.manager, event);
  }
}
