import type { V16 } from '@csms/ocpp';
import { idTagInfo16, judgeToken } from '@csms/ocpp-gateway-core';
import type { OcppHandler } from '../../handler';

/** idTagInfo only when the request carries an idTag (1.6 StopTransaction.conf). */
export const stopTransaction: OcppHandler<V16.StopTransactionRequest, V16.StopTransactionResponse> = (req, ctx) =>
  req.idTag ? { idTagInfo: idTagInfo16(judgeToken(ctx.token(req.idTag), ctx.now())) } : {};
