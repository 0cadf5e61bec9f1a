/** Reset: 1.6 Hard/Soft; 2.0.1 Immediate, or OnIdle (scheduled until the last session leaves). */
import type { Command } from './command';

export const reset16: Command<'ocpp1.6', 'Reset'> = (st, req) => {
  st.afterReply(() => st.at(st.now(), 'reset', () => st.reboot(req.type === 'Hard' ? 'HardReset' : 'SoftReset')));
  return { status: 'Accepted' };
};

export const reset201: Command<'ocpp2.0.1', 'Reset'> = (st, req) => {
  if (req.evseId !== undefined) return { status: 'Rejected' };
  if (req.type === 'OnIdle' && st.connectors.some((c) => c.session)) {
    st.pendingReset = true;
    return { status: 'Scheduled' };
  }
  st.afterReply(() => st.at(st.now(), 'reset', () => st.reboot('ImmediateReset')));
  return { status: 'Accepted' };
};
