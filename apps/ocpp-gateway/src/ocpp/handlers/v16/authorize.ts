import type { V16 } from '@csms/ocpp';
import { idTagInfo16, judgeToken } from '@csms/ocpp-gateway-core';
import type { OcppHandler } from '../../handler';

/** Answered from the token registry in memory (no database round trip). */
export const authorize: OcppHandler<V16.AuthorizeRequest, V16.AuthorizeResponse> = (req, ctx) => ({
  idTagInfo: idTagInfo16(judgeToken(ctx.token(req.idTag), ctx.now())),
});
