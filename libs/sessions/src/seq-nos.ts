/** 2.0.1 sequence numbers of a session: duplicates, gaps (see the README, "seqNo gaps and incomplete sessions"). */
import * as contracts from '@csms/contracts';
import * as stateModule from './state';
import type { SessionState } from './state';

// imported functions bound once: under the CommonJS transpilers each use of an import is a getter call (README "Performance")
const { SESSION_ENDED_LIMITS } = contracts;
const { chunkedAppend, chunkedFindFromEnd, chunkedToArray } = stateModule;

/** The record that first carried a seqNo, if seen. O(1) for a seqNo above all seen (the usual case). */
export function seqSource(s: SessionState, n: number): string | undefined {
  if (s.seqMax === undefined || n > s.seqMax) return undefined;
  return chunkedFindFromEnd(s.seqNos, (x) => x.seqNo === n)?.eventId;
}

/** Notes a seqNo on a session being evolved (a copy): the first record carrying it is kept. */
export function noteSeqNo(s: SessionState, n: number, eventId: string): void {
  if (seqSource(s, n) !== undefined) return;
  s.seqNos = chunkedAppend(s.seqNos, { seqNo: n, eventId });
  s.seqCount += 1;
  s.seqMin = s.seqMin === undefined ? n : Math.min(s.seqMin, n);
  s.seqMax = s.seqMax === undefined ? n : Math.max(s.seqMax, n);
}

/** O(1) in the usual case: are seqNos missing between the start (or lowest) and the end (or highest)? */
export function hasGap(s: SessionState): boolean {
  if (s.seqCount === 0 || s.seqMin === undefined || s.seqMax === undefined) return false;
  const from = s.startSeqNo ?? s.seqMin;
  const to = s.endSeqNo ?? s.seqMax;
  if (s.seqMin >= from && s.seqMax <= to) return to - from + 1 !== s.seqCount;
  return missingSeqNos(s).length > 0;
}

/** The seqNos missing between the start (or lowest) and the end (or highest), at most 1,000. */
export function missingSeqNos(s: SessionState): number[] {
  if (s.seqCount === 0) return [];
  const seenSet = new Set(chunkedToArray(s.seqNos).map((x) => x.seqNo));
  if (seenSet.size === 0) return [];
  const from = s.startSeqNo ?? s.seqMin ?? 0;
  const to = s.endSeqNo ?? s.seqMax ?? 0;
  const missing: number[] = [];
  for (let n = from; n <= to && missing.length < SESSION_ENDED_LIMITS.missingSeqNos; n++)
    if (!seenSet.has(n)) missing.push(n);
  return missing;
}
