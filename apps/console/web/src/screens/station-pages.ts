/**
 * The utilisation and uptime reports page by station (at most 100 stations a request, `after` = the last station
 * of the previous page, `nextAfter` null on the last page). A download must hold every station, so the console
 * follows the cursor to the end and joins the pages' rows in order.
 */
export interface StationPage {
  columns: string[];
  rows: Array<Record<string, unknown>>;
  nextAfter: string | null;
}

export async function everyStationPage(
  fetchPage: (after: string | undefined) => Promise<StationPage>,
  onPage?: (pages: number, rows: number, lastStation: string | null) => void,
): Promise<{ columns: string[]; rows: Array<Record<string, unknown>>; pages: number }> {
  const rows: Array<Record<string, unknown>> = [];
  let columns: string[] = [];
  let after: string | undefined;
  let pages = 0;
  for (;;) {
    const page = await fetchPage(after);
    pages++;
    if (pages === 1) columns = page.columns;
    else if (page.columns.join(',') !== columns.join(','))
      throw new Error(`the report's columns changed between pages (page ${pages})`);
    rows.push(...page.rows);
    onPage?.(pages, rows.length, page.nextAfter);
    if (page.nextAfter === null || page.nextAfter === undefined) return { columns, rows, pages };
    if (after !== undefined && page.nextAfter <= after)
      throw new Error(`the report's cursor did not move on (${after} → ${page.nextAfter})`);
    after = page.nextAfter;
  }
}
