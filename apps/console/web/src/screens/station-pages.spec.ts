import { everyStationPage, type StationPage } from './station-pages';

const columns = ['station_id', 'evse_id', 'day'];
/** a report of these stations, `limit` a page, as the reporting service pages it */
const report =
  (stations: string[], limit: number) =>
  async (after: string | undefined): Promise<StationPage> => {
    const rest = stations.filter((s) => after === undefined || s > after);
    const page = rest.slice(0, limit);
    return {
      columns,
      rows: page.map((s) => ({ station_id: s, evse_id: 1, day: '2026-12-01' })),
      nextAfter: page.length === limit ? page[page.length - 1] : null,
    };
  };

describe('every station of a report paged by station', () => {
  const stations = Array.from({ length: 250 }, (_, i) => `st-${String(i).padStart(3, '0')}`);

  it('follows the cursor to the last page and keeps the order', async () => {
    const seen: number[] = [];
    const r = await everyStationPage(report(stations, 100), (p) => seen.push(p));
    expect(r.pages).toBe(3);
    expect(seen).toEqual([1, 2, 3]);
    expect(r.rows.map((x) => x.station_id)).toEqual(stations);
    expect(r.columns).toEqual(columns);
  });

  it('asks once more when the last page is exactly full (the service cannot know it was the last)', async () => {
    const r = await everyStationPage(report(stations.slice(0, 200), 100));
    expect(r.pages).toBe(3);
    expect(r.rows).toHaveLength(200);
  });

  it('stops on a cursor that does not move on', async () => {
    await expect(everyStationPage(async () => ({ columns, rows: [], nextAfter: 'st-1' }))).rejects.toThrow(
      'did not move on',
    );
  });
});
