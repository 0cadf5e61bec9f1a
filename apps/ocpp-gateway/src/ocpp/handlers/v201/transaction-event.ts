import type { V201 } from '@csms/ocpp';
import { idTokenInfo201, judgeToken } from '@csms/ocpp-gateway-core';
import type { OcppHandler } from '../../handler';

/**
 * E01-E15: the station names its own transactionId in 2.0.1; the gateway records the event and, when it
 * carries an idToken (E05.FR.09 "the CSMS SHALL respond with idTokenInfo"), answers its status.
 */
export const transactionEvent: OcppHandler<V201.TransactionEventRequest, V201.TransactionEventResponse> = (
  req,
  ctx,
) => {
  if (!req.idToken) return {};
  if (req.idToken.type === 'NoAuthorization') return { idTokenInfo: { status: 'Accepted' } };
  return { idTokenInfo: idTokenInfo201(judgeToken(ctx.token(req.idToken.idToken), ctx.now())) };
};
