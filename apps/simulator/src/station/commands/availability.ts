/** ChangeAvailability: a connector (or all) Operative / Inoperative; Scheduled while a session runs. */
import type { Connector, StationCore } from '../types';
import type { Command } from './command';

function changeAvailability(st: StationCore, targets: Connector[], operative: boolean): 'Accepted' | 'Scheduled' {
  let scheduled = false;
  for (const c of targets) {
    if (c.session) {
      c.pendingOperative = operative;
      scheduled = true;
      continue;
    }
    st.afterReply(() =>
      st.at(st.now(), 'availability', () => {
        c.operative = operative;
        if (!c.faulted) st.setStatus(c, operative ? 'Available' : 'Unavailable', st.sched.current);
        if (operative) st.scheduleNext(c, st.sched.current);
        else st.checkDone();
      }),
    );
  }
  return scheduled ? 'Scheduled' : 'Accepted';
}

export const changeAvailability16: Command<'ocpp1.6', 'ChangeAvailability'> = (st, req) => {
  const targets =
    req.connectorId === 0 ? st.connectors : [st.connector(req.connectorId)].filter((c): c is Connector => !!c);
  if (!targets.length) return { status: 'Rejected' };
  return { status: changeAvailability(st, targets, req.type === 'Operative') };
};

export const changeAvailability201: Command<'ocpp2.0.1', 'ChangeAvailability'> = (st, req) => {
  const targets = req.evse ? [st.connector(req.evse.id)].filter((c): c is Connector => !!c) : st.connectors;
  if (!targets.length) return { status: 'Rejected' };
  return { status: changeAvailability(st, targets, req.operationalStatus === 'Operative') };
};
