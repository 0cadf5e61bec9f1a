import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { Envelope } from '@csms/contracts';
import type { HandlerContext } from '@csms/messaging';
import { ConsumerController } from '@csms/service-kit';
import { ocpiPartiesHandler } from './ocpi-parties';

/**
 * ocpi.events, a group of its own (`<group>.ocpi`): the OCPI parties read model (`ocpi-parties.ts`). The
 * controllers write each change with its event; reading it back changes nothing (revisions), and a rebuild
 * restores every party, its roles and the hashes of its live tokens.
 */
@ConsumerController()
export class OcpiPartiesConsumer {
  @EventPattern('ocpi.registration_opened')
  opened(@Payload() e: Envelope, @Ctx() ctx: HandlerContext) {
    return ocpiPartiesHandler(e, ctx);
  }
  @EventPattern('ocpi.party_registered')
  registered(@Payload() e: Envelope, @Ctx() ctx: HandlerContext) {
    return ocpiPartiesHandler(e, ctx);
  }
  @EventPattern('ocpi.credentials_updated')
  updated(@Payload() e: Envelope, @Ctx() ctx: HandlerContext) {
    return ocpiPartiesHandler(e, ctx);
  }
  @EventPattern('ocpi.party_unregistered')
  unregistered(@Payload() e: Envelope, @Ctx() ctx: HandlerContext) {
    return ocpiPartiesHandler(e, ctx);
  }
}
