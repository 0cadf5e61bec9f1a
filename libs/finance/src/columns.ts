/**
 * The column order of every finance export (CSV) and of the JSON rows: fixed here, so a spreadsheet or a
 * script reading them keeps working when the code changes (a new column is added at the end, never between).
 * Decimals are written as text exactly as the read model holds them; a dimension a report is not grouped by is
 * an empty field.
 */
export const REVENUE_COLUMNS = [
  'period',
  'day',
  'currency',
  'site_id',
  'station_id',
  'evse_uid',
  'tariff_id',
  'tariff_version',
  'account_id',
  'cdrs',
  'sessions',
  'energy_kwh',
  'charging_hours',
  'parking_hours',
  'net',
  'vat',
  'gross',
] as const;

export const CDR_EXPORT_COLUMNS = [
  'cdr_id',
  'credit',
  'credit_reference_id',
  'session_id',
  'station_id',
  'site_id',
  'evse_uid',
  'connector_id',
  'tariff_id',
  'tariff_version',
  'currency',
  'account_id',
  'issued_at',
  'time_zone',
  'issue_day',
  'reported_day',
  'energy_kwh',
  'charging_hours',
  'parking_hours',
  'net',
  'vat',
  'gross',
] as const;

export const UPTIME_COLUMNS = [
  'period',
  'station_id',
  'evse_id',
  'time_zone',
  'period_minutes',
  'outage_minutes',
  'excluded_minutes',
  'unknown_minutes',
  'outages',
  'uptime_percent',
  'trailing_12_months_percent',
] as const;

export const UTILISATION_COLUMNS = [
  'day',
  'station_id',
  'evse_id',
  'time_zone',
  'occupied_minutes',
  'charging_minutes',
  'idle_minutes',
  'unknown_minutes',
  'sessions',
] as const;

export type Row<C extends readonly string[]> = Record<C[number], string | number | boolean | null>;

/** The values of a row in the columns' order (null: an empty field). */
export function inOrder<C extends readonly string[]>(columns: C, row: Row<C>): Array<string | number | boolean | null> {
  return columns.map((c) => row[c as C[number]]);
}
