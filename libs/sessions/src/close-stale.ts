/** CloseStaleSessions: the time rules, at `now` = event time. Cheap when nothing is due (it runs after every record). */
import type { SessionDeciderConfig } from './config';
import type { DeciderContext } from './context';
import type { SessionDeciderEvent } from './events';
import { toIsoString } from '@csms/kernel';
import { ended } from './public-events';
import type { SessionState, SessionsState } from './state';

type StaleClosure = 'incomplete-timeout' | 'timeout';

export function closeStale(state: SessionsState, now: number, ctx: DeciderContext): SessionDeciderEvent[] {
  const forget = sessionsToForget(state, now, ctx.cfg);
  const due = sessionsToClose(state, now, ctx.cfg);
  const out: SessionDeciderEvent[] = [];
  if (due.length > 0) {
    const cause = `close-stale@${toIsoString(now)}`;
    // only due sessions are sorted
    due.sort((a, b) => (a.s.sessionId < b.s.sessionId ? -1 : 1));
    for (const { s, closure } of due)
      out.push(ended(s, 0, closure, closure === 'timeout' ? s.lastEventAt : undefined, cause, ctx));
  }
  if (forget.length > 0) out.push({ type: 'session.forgotten', sessionIds: forget.sort() });
  return out;
}

/** Ended sessions are kept for retainEndedSeconds after their session.ended and their last message. */
function sessionsToForget(state: SessionsState, now: number, cfg: SessionDeciderConfig): string[] {
  const retain = cfg.retainEndedSeconds * 1000;
  const forget: string[] = [];
  for (const id in state.closed) {
    const s = state.closed[id];
    if (s.ended && now - s.ended.receivedMs >= retain && now - s.lastReceivedMs >= retain) forget.push(id);
  }
  return forget;
}

/**
 * A session held incomplete (seqNo gap or start missing) is closed anyway incompleteGraceSeconds after its
 * last message; an open one with no message for staleAfterSeconds is closed as never stopped.
 */
function sessionsToClose(
  state: SessionsState,
  now: number,
  cfg: SessionDeciderConfig,
): Array<{ s: SessionState; closure: StaleClosure }> {
  const due: Array<{ s: SessionState; closure: StaleClosure }> = [];
  for (const s of state.sessions) {
    if (s.end) {
      if (now - Math.max(s.end.receivedAtMs, s.lastReceivedMs) >= cfg.incompleteGraceSeconds * 1000)
        due.push({ s, closure: 'incomplete-timeout' });
    } else if (now - s.lastReceivedMs >= cfg.staleAfterSeconds * 1000) due.push({ s, closure: 'timeout' });
  }
  return due;
}
