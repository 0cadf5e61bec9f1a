/** The decider's documented rules, as numbers. Every rule measures time from event timestamps. */
export interface SessionDeciderConfig {
  /** session.updated at most once per this many seconds of event time per session (state changes always emit) */
  updateIntervalSeconds: number;
  /** a register increase implying more than this average power over its interval is not billed (flagged) */
  maxPlausiblePowerW: number;
  /** added to the plausible energy of an interval (meter resolution, timestamp jitter) */
  plausibilitySlackWh: number;
  /** CloseStaleSessions: a session with no event received for this long is closed as never stopped */
  staleAfterSeconds: number;
  /** CloseStaleSessions: a session whose end arrived while incomplete (seqNo gap, start missing) is closed anyway after this long */
  incompleteGraceSeconds: number;
  /** CloseStaleSessions: ended sessions are forgotten (late events then open a new, flagged session) after this long */
  retainEndedSeconds: number;
  /** readings this far outside [start, end] are dropped (flagged); closer ones are clamped to the window */
  readingToleranceSeconds: number;
  /** station time this far after the gateway receive time is a clock in the future */
  clockAheadToleranceSeconds: number;
  /** station time this far before the receive time, not marked offline, is late delivery or a clock behind */
  lateDeliveryToleranceSeconds: number;
  /** station times before this instant are an unset clock */
  earliestPlausibleTime: string;
}

export const DEFAULT_SESSION_CONFIG: SessionDeciderConfig = {
  updateIntervalSeconds: 900,
  maxPlausiblePowerW: 400_000,
  plausibilitySlackWh: 1000,
  staleAfterSeconds: 72 * 3600,
  incompleteGraceSeconds: 24 * 3600,
  retainEndedSeconds: 48 * 3600,
  readingToleranceSeconds: 60,
  clockAheadToleranceSeconds: 300,
  lateDeliveryToleranceSeconds: 900,
  earliestPlausibleTime: '2015-01-01T00:00:00.000Z',
};
