/** Authorize: the driver's tag, before a transaction starts (or a remote start when AuthorizeRemoteTxRequests is set). */
import type { V16, V201 } from '@csms/ocpp';
import { idToken201 } from '../model/messages';
import type { Connector, Session, StationCore, TxTrigger } from './types';

export async function authorize(
  st: StationCore,
  c: Connector,
  sess: Session,
  trigger: TxTrigger = 'Authorized',
): Promise<void> {
  const idTag = sess.planned.idTag;
  const request = (): V16.AuthorizeRequest | V201.AuthorizeRequest =>
    st.v16 ? { idTag } : { idToken: idToken201(idTag) };
  const res = await st.send('Authorize', request, 'other');
  if (sess.ended || c.session !== sess) return;
  // no answer (offline): LocalAuthorizeOffline, the tag is accepted locally
  const status = res === undefined ? 'Accepted' : 'idTagInfo' in res ? res.idTagInfo.status : res.idTokenInfo.status;
  if (status !== 'Accepted') {
    st.summary.authRejected++;
    st.emit({ kind: 'auth-rejected', detail: { connectorId: c.id, idTag, status } });
    sess.ended = true;
    const at = st.sched.current + 5_000;
    st.at(at, `unplug ${c.id}`, () => st.unplug(c, sess));
    return;
  }
  st.startTransaction(c, sess, trigger);
}
