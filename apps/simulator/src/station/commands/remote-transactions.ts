/** Remote start and stop: 1.6 RemoteStart/RemoteStopTransaction, 2.0.1 RequestStart/RequestStopTransaction. */
import { drawSession } from '../../model/plan';
import { Rng } from '../../model/prng';
import type { Connector, Session, StationCore } from '../types';
import type { Command } from './command';

/** A free connector for a remote start: the one asked for, else the first without a session. */
function remoteTarget(st: StationCore, id: number | undefined): Connector | undefined {
  const candidates = id === undefined ? st.connectors : [st.connector(id)].filter((c): c is Connector => !!c);
  return candidates.find(
    (c) => c.operative && !c.faulted && (!c.session || (!c.session.txStarted && !c.session.ended)),
  );
}

function remoteStart(st: StationCore, c: Connector, idTag: string, remoteStartId?: number): void {
  st.afterReply(() => {
    st.at(st.now(), `remote-start ${c.id}`, () => {
      let sess = c.session;
      if (sess && (sess.txStarted || sess.ended)) return;
      if (sess) {
        for (const e of sess.events) st.sched.cancel(e);
        sess.events = [];
        sess.planned = { ...sess.planned, idTag };
        sess.remote = true;
        sess.record.remote = true;
        sess.record.idTag = idTag;
        sess.remoteStartId = remoteStartId;
      } else {
        st.sched.cancel(c.nextEvent);
        c.nextEvent = undefined;
        const rng = Rng.derive(st.cfg.seed, 'station', st.cfg.index, 'remote', c.id, ++c.remoteCount);
        const planned = { ...drawSession(rng, st.cfg.shape, c.remoteCount, [idTag]), idTag };
        delete planned.offline;
        delete planned.faultAfter;
        sess = st.plugIn(c, planned, true, remoteStartId);
      }
      // AuthorizeRemoteTxRequests (1.6) / AuthCtrlr.AuthorizeRemoteStart (2.0.1): authorise the remote tag first
      if (st.config.get('AuthorizeRemoteTxRequests')?.value === 'true') return st.authorize(c, sess, 'RemoteStart');
      st.startTransaction(c, sess, 'RemoteStart');
    });
  });
}

function findTx(st: StationCore, txId: unknown): [Connector, Session] | undefined {
  for (const c of st.connectors) {
    if (c.session && c.session.txStarted && !c.session.ended && String(c.session.transactionId) === String(txId))
      return [c, c.session];
  }
  return undefined;
}

function remoteStop(st: StationCore, txId: unknown): boolean {
  const found = findTx(st, txId);
  if (!found) return false;
  const [c, sess] = found;
  st.afterReply(() => st.at(st.now(), `remote-stop ${c.id}`, () => st.stopTransaction(c, sess, 'Remote')));
  return true;
}

export const remoteStartTransaction16: Command<'ocpp1.6', 'RemoteStartTransaction'> = (st, req) => {
  const c = remoteTarget(st, req.connectorId);
  if (!c) return { status: 'Rejected' };
  remoteStart(st, c, req.idTag);
  return { status: 'Accepted' };
};

export const requestStartTransaction201: Command<'ocpp2.0.1', 'RequestStartTransaction'> = (st, req) => {
  const c = remoteTarget(st, req.evseId);
  if (!c) return { status: 'Rejected' };
  remoteStart(st, c, req.idToken.idToken, req.remoteStartId);
  return { status: 'Accepted' };
};

export const remoteStopTransaction16: Command<'ocpp1.6', 'RemoteStopTransaction'> = (st, req) => ({
  status: remoteStop(st, req.transactionId) ? 'Accepted' : 'Rejected',
});

export const requestStopTransaction201: Command<'ocpp2.0.1', 'RequestStopTransaction'> = (st, req) => ({
  status: remoteStop(st, req.transactionId) ? 'Accepted' : 'Rejected',
});
