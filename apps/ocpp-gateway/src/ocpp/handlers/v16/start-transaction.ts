import type { V16 } from '@csms/ocpp';
import { idTagInfo16, judgeToken } from '@csms/ocpp-gateway-core';
import type { OcppHandler } from '../../handler';

/**
 * 1.6 §5.16: the Central System SHALL respond with a transactionId. It is unique across instances and
 * restarts, and a retried StartTransaction (same station, connector, idTag, timestamp, meterStart) gets
 * the same one back.
 */
export const startTransaction: OcppHandler<V16.StartTransactionRequest, V16.StartTransactionResponse> = async (
  req,
  ctx,
) => ({
  transactionId: await ctx.assignTransactionId({
    stationId: ctx.stationId,
    connectorId: req.connectorId,
    idTag: req.idTag,
    timestamp: req.timestamp,
    meterStart: req.meterStart,
  }),
  idTagInfo: idTagInfo16(judgeToken(ctx.token(req.idTag), ctx.now())),
});
