/**
 * What the payment service's scheduler asks for at a given moment (pure: the scheduler reads the clock, these rules
 * only look at the time it read). The command it makes names its period, and its id is derived from the account and
 * the period, so two instances or a restart ask for the same thing with the same id, decided once.
 */
import { epochMsOf, toIsoString } from '@csms/kernel';

/**
 * The month whose statement is due at `now` (UTC): the month before, from day `day` of the month (1-28) on; null
 * before that day (and when `day` is 0: statements off). CDRs of that month that arrive later go on the next one.
 */
export function statementMonthDue(now: string, day: number): string | null {
  if (day < 1) return null;
  const iso = toIsoString(epochMsOf(now));
  const year = Number(iso.slice(0, 4));
  const month = Number(iso.slice(5, 7));
  if (Number(iso.slice(8, 10)) < day) return null;
  const [y, m] = month === 1 ? [year - 1, 12] : [year, month - 1];
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}`;
}
