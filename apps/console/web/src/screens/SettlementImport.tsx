/**
 * The PSP's settlement reports, over the payment service's API: the reports imported (newest first, the API's
 * cursor) and an import form — the report file (Stripe's itemized payout reconciliation CSV) with its run's id and
 * interval. A refused file shows the service's field error (`body/csv/line/<n>/<column>`) beside the file input.
 * Reconciliation compares against the PSP's record up to the latest report's end.
 */
import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { apiGet, apiPost } from '../api/client';
import type { Page } from '../api/views';
import { Busy, Field, ProblemView, Section, fieldProblem } from '../components/common';
import { DataTable, columnsFor, useCursorPages } from '../components/DataTable';
import { dateTime } from '../format';
import { toInstant } from './filters';

interface SettlementReport {
  reportId: string;
  intervalStart: string;
  intervalEnd: string;
  lines: number;
  linesNew: number;
  payouts: Array<{ payoutRef: string; currency: string; amountMinor: string }>;
  importedBy: string;
  duplicate?: boolean;
}

const sc = columnsFor<SettlementReport>();
const columns = sc.columns([
  sc.accessor('reportId', { header: 'Report', cell: (x) => <span className="mono small">{x.getValue()}</span> }),
  sc.accessor('intervalStart', { header: 'From', cell: (x) => dateTime(x.getValue()) }),
  sc.accessor('intervalEnd', { header: 'To (complete up to)', cell: (x) => dateTime(x.getValue()) }),
  sc.accessor('lines', { header: 'Lines' }),
  sc.accessor('linesNew', { header: 'New lines' }),
  sc.accessor((r) => r.payouts?.length ?? 0, { id: 'payouts', header: 'Payouts' }),
  sc.accessor('importedBy', { header: 'Imported by' }),
]);

const FIELDS = ['reportId', 'intervalStart', 'intervalEnd', 'csv'];

export function SettlementReports() {
  const qc = useQueryClient();
  const pages = useCursorPages();
  const list = useQuery({
    queryKey: ['payments', 'settlements', pages.cursor],
    queryFn: ({ signal }) =>
      apiGet<Page<SettlementReport>, 'payments', '/api/v1/settlements'>('payments', '/api/v1/settlements', {
        query: { limit: '10', cursor: pages.cursor },
        signal,
      }),
  });
  const [f, setF] = useState({ reportId: '', intervalStart: '', intervalEnd: '' });
  const [file, setFile] = useState<{ name: string; text: string } | undefined>();
  const [done, setDone] = useState<string | undefined>();
  const upload = useMutation({
    mutationFn: () =>
      apiPost<SettlementReport, 'payments', '/api/v1/settlements'>('payments', '/api/v1/settlements', {
        body: {
          reportId: f.reportId.trim(),
          intervalStart: toInstant(f.intervalStart) ?? '',
          intervalEnd: toInstant(f.intervalEnd) ?? '',
          csv: file?.text ?? '',
        },
      }),
    onSuccess: async (r) => {
      setDone(
        r.duplicate
          ? `${r.reportId} was imported before: nothing changed.`
          : `${r.reportId}: ${r.lines} lines, ${r.linesNew} new, ${r.payouts?.length ?? 0} payouts. Run reconciliation to compare.`,
      );
      pages.reset();
      await qc.invalidateQueries({ queryKey: ['payments', 'settlements'] });
    },
  });
  const e = upload.error;
  const touch = () => {
    setDone(undefined);
    if (upload.error) upload.reset();
  };
  return (
    <Section title="PSP settlement reports" id="settlements">
      <form
        className="filters write"
        aria-label="Import a settlement report"
        onSubmit={(ev) => {
          ev.preventDefault();
          upload.mutate();
        }}
      >
        <Field
          label="Report file (CSV)"
          id="settlement-file"
          error={fieldProblem(e, 'csv')}
          hint="the PSP's itemized payout reconciliation report"
        >
          {(a) => (
            <input
              {...a}
              type="file"
              accept=".csv,text/csv"
              required
              onChange={async (ev) => {
                const chosen = ev.target.files?.[0];
                touch();
                if (!chosen) return setFile(undefined);
                setFile({ name: chosen.name, text: await chosen.text() });
                if (!f.reportId) setF((old) => ({ ...old, reportId: chosen.name.replace(/\.csv$/i, '') }));
              }}
            />
          )}
        </Field>
        <Field
          label="Report id"
          id="settlement-report-id"
          error={fieldProblem(e, 'reportId')}
          hint="the report run's id: the same id again is the same import"
        >
          {(a) => (
            <input
              {...a}
              value={f.reportId}
              required
              onChange={(ev) => {
                setF({ ...f, reportId: ev.target.value });
                touch();
              }}
            />
          )}
        </Field>
        <Field label="Interval from (UTC)" id="settlement-from" error={fieldProblem(e, 'intervalStart')}>
          {(a) => (
            <input
              {...a}
              type="datetime-local"
              step={1}
              value={f.intervalStart}
              required
              onChange={(ev) => {
                setF({ ...f, intervalStart: ev.target.value });
                touch();
              }}
            />
          )}
        </Field>
        <Field
          label="to (UTC)"
          id="settlement-to"
          error={fieldProblem(e, 'intervalEnd')}
          hint="the PSP's record is complete up to here"
        >
          {(a) => (
            <input
              {...a}
              type="datetime-local"
              step={1}
              value={f.intervalEnd}
              required
              onChange={(ev) => {
                setF({ ...f, intervalEnd: ev.target.value });
                touch();
              }}
            />
          )}
        </Field>
        <button type="submit" disabled={upload.isPending || !file}>
          {upload.isPending ? 'Importing…' : 'Import'}
        </button>
        {upload.isPending && <Busy what={`the payment service is reading ${file?.name ?? 'the report'}`} />}
        {done && (
          <p role="status" className="muted" data-testid="settlement-done">
            {done}
          </p>
        )}
        <ProblemView error={e && !fieldProblem(e, ...FIELDS) ? e : null} />
      </form>
      <ProblemView error={list.error} />
      <DataTable
        caption="Settlement reports imported, newest first (the service's order)"
        columns={columns}
        rows={list.data?.items}
        rowId={(r) => r.reportId}
        pages={pages}
        nextCursor={list.data?.nextCursor}
        loading={list.isLoading}
        empty="No settlement report imported yet: download the itemized payout reconciliation report from the PSP and import it above; reconciliation then compares against it."
        testId="settlements-table"
      />
    </Section>
  );
}
