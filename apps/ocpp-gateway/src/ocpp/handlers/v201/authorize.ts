import type { V201 } from '@csms/ocpp';
import { idTokenInfo201, judgeToken } from '@csms/ocpp-gateway-core';
import type { OcppHandler } from '../../handler';

/** C01: answered from the token registry in memory. */
export const authorize: OcppHandler<V201.AuthorizeRequest, V201.AuthorizeResponse> = (req, ctx) => ({
  idTokenInfo: idTokenInfo201(judgeToken(ctx.token(req.idToken.idToken), ctx.now())),
});
