/**
 * Every list of the console: TanStack Table over one page of a service's list. Pagination is the service's
 * (cursor: the table keeps the cursor of each page it has seen, so Previous goes back and Next follows
 * `nextCursor`); sorting sorts the rows of the page shown (the services' lists have a fixed order, said in the
 * caption); the columns can be chosen.
 */
import { useState, type ReactNode } from 'react';
import { ScrollBox } from './common';
import {
  columnVisibilityFeature,
  createColumnHelper,
  createSortedRowModel,
  rowSortingFeature,
  sortFns,
  tableFeatures,
  useTable,
  type ColumnVisibilityState,
  type RowData,
  type SortingState,
} from '@tanstack/react-table';

export const tableFeatureSet = tableFeatures({
  columnVisibilityFeature,
  rowSortingFeature,
  sortedRowModel: createSortedRowModel(),
  sortFns,
});
export type Features = typeof tableFeatureSet;
export const columnsFor = <T extends RowData>() => createColumnHelper<Features, T>();
/** the columns of a table of T, as `columnsFor<T>().columns([...])` makes them */
export type Columns<T extends RowData> = ReturnType<ReturnType<typeof columnsFor<T>>['columns']>;

/** The cursors of the pages seen: page i was fetched with cursors[i] (page 0: none). */
export function useCursorPages() {
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [page, setPage] = useState(0);
  return {
    page,
    cursor: cursors[page],
    next(nextCursor: string | null | undefined) {
      if (!nextCursor) return;
      setCursors((c) => [...c.slice(0, page + 1), nextCursor]);
      setPage(page + 1);
    },
    previous() {
      setPage((p) => Math.max(0, p - 1));
    },
    reset() {
      setCursors([undefined]);
      setPage(0);
    },
  };
}
export type CursorPages = ReturnType<typeof useCursorPages>;

interface DataTableProps<T extends RowData> {
  caption: string;
  columns: Columns<T>;
  rows: T[] | undefined;
  rowId: (row: T) => string;
  pages?: CursorPages;
  nextCursor?: string | null;
  loading?: boolean;
  empty: ReactNode;
  initialHidden?: string[];
  testId?: string;
}

const NO_ROWS: never[] = [];

export function DataTable<T extends RowData>(props: DataTableProps<T>) {
  const [sorting, setSorting] = useState<SortingState>([]);
  const [columnVisibility, setColumnVisibility] = useState<ColumnVisibilityState>(() =>
    Object.fromEntries((props.initialHidden ?? []).map((id) => [id, false])),
  );
  const table = useTable({
    features: tableFeatureSet,
    columns: props.columns,
    data: props.rows ?? (NO_ROWS as T[]),
    getRowId: (row: T) => props.rowId(row),
    state: { sorting, columnVisibility },
    onSortingChange: setSorting,
    onColumnVisibilityChange: setColumnVisibility,
  });
  const rows = table.getRowModel().rows;
  const visible = table.getVisibleLeafColumns().length;
  return (
    <div className="table-wrap" data-testid={props.testId}>
      <div className="table-tools">
        <details className="columns-menu">
          <summary>Columns</summary>
          <fieldset>
            <legend>Columns shown</legend>
            {table.getAllLeafColumns().map((column) => (
              <label key={column.id}>
                <input type="checkbox" checked={column.getIsVisible()} onChange={() => column.toggleVisibility()} />
                {typeof column.columnDef.header === 'string' ? column.columnDef.header : column.id}
              </label>
            ))}
          </fieldset>
        </details>
        {props.pages && (
          <nav className="pager" aria-label={`${props.caption} pages`}>
            <button type="button" onClick={props.pages.previous} disabled={props.pages.page === 0}>
              ← Previous
            </button>
            <span aria-live="polite">page {props.pages.page + 1}</span>
            <button type="button" onClick={() => props.pages?.next(props.nextCursor)} disabled={!props.nextCursor}>
              Next →
            </button>
          </nav>
        )}
      </div>
      <ScrollBox>
        <table>
          <caption>{props.caption}</caption>
          <thead>
            {table.getHeaderGroups().map((group) => (
              <tr key={group.id}>
                {group.headers.map((header) => {
                  const sorted = header.column.getIsSorted();
                  return (
                    <th
                      key={header.id}
                      scope="col"
                      aria-sort={sorted === 'asc' ? 'ascending' : sorted === 'desc' ? 'descending' : undefined}
                    >
                      {header.isPlaceholder ? null : header.column.getCanSort() ? (
                        <button type="button" className="sort" onClick={header.column.getToggleSortingHandler()}>
                          <table.FlexRender header={header} />
                          <span aria-hidden="true">{sorted === 'asc' ? ' ▲' : sorted === 'desc' ? ' ▼' : ''}</span>
                        </button>
                      ) : (
                        <table.FlexRender header={header} />
                      )}
                    </th>
                  );
                })}
              </tr>
            ))}
          </thead>
          <tbody>
            {props.loading && !props.rows ? (
              <tr>
                <td colSpan={visible} className="muted">
                  <span className="spinner" aria-hidden="true" /> loading…
                </td>
              </tr>
            ) : rows.length === 0 ? (
              <tr>
                <td colSpan={visible} className="empty">
                  {props.empty}
                </td>
              </tr>
            ) : (
              rows.map((row) => (
                <tr key={row.id}>
                  {row.getVisibleCells().map((cell) => (
                    <td key={cell.id}>
                      <table.FlexRender cell={cell} />
                    </td>
                  ))}
                </tr>
              ))
            )}
          </tbody>
        </table>
      </ScrollBox>
    </div>
  );
}
