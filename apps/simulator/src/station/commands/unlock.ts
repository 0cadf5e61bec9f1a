/** UnlockConnector: 1.6 stops a running transaction (UnlockCommand); 2.0.1 refuses while one runs. */
import type { Command } from './command';

export const unlockConnector16: Command<'ocpp1.6', 'UnlockConnector'> = (st, req) => {
  const c = st.connector(req.connectorId);
  if (!c) return { status: 'NotSupported' };
  const s = c.session;
  if (s?.txStarted && !s.ended)
    st.afterReply(() => st.at(st.now(), 'unlock', () => st.stopTransaction(c, s, 'UnlockCommand')));
  return { status: 'Unlocked' };
};

export const unlockConnector201: Command<'ocpp2.0.1', 'UnlockConnector'> = (st, req) => {
  const c = st.connector(req.evseId);
  if (!c || req.connectorId !== 1) return { status: 'UnknownConnector' };
  if (c.session?.txStarted && !c.session.ended) return { status: 'OngoingAuthorizedTransaction' };
  return { status: 'Unlocked' };
};
