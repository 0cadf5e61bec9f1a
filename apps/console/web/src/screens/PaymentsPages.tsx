/**
 * Payments and ledger, over the payment service's API: billing accounts (list, one account with its method,
 * standing, ledger balances and statements), the ledger (its balances and its journal of transfers) and a
 * session's payment timeline (hold → raised → capture / release / refund, with the session's journal).
 */
import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Link, getRouteApi } from '@tanstack/react-router';
import { ApiError, apiGet } from '../api/client';
import type {
  AccountBalances,
  BillingAccount,
  LedgerBalance,
  LedgerTransfer,
  Page,
  PaymentMethod,
  PaymentRecord,
  SessionJournal,
  Statement,
  UnbilledCdr,
} from '../api/views';
import { useAuth } from '../auth/auth';
import { Badge, Loading, NotAllowed, ProblemView, Section, statusTone } from '../components/common';
import { DataTable, columnsFor, useCursorPages } from '../components/DataTable';
import { dateTime } from '../format';
import { walletBalanceMinor } from './account-writes';
import { ChangeMethodForm, IssueStatementForm, OpenAccountForm, TopUpForm } from './AccountWrites';
import { FilterForm } from './filters';
import { minorToMajor, paymentTimeline } from './payment-timeline';

const accountRoute = getRouteApi('/accounts/$accountId');
const paymentRoute = getRouteApi('/sessions/$sessionId/payment');
const ledgerRoute = getRouteApi('/ledger');

export function methodText(m: PaymentMethod | undefined): string {
  if (!m) return '—';
  if (m.kind === 'card') return `card (${m.paymentMethodRef})`;
  if (m.kind === 'invoice') return `invoice (credit limit ${m.creditLimitMinor} minor units)`;
  return 'wallet (prepaid)';
}

function Standing({ a }: { a: { status: string; statusReason?: string | null } }) {
  return (
    <>
      <Badge tone={a.status === 'active' ? 'ok' : 'bad'}>{a.status === 'active' ? 'can pay' : a.status}</Badge>
      {a.statusReason ? <span className="muted"> {a.statusReason}</span> : null}
    </>
  );
}

const ac = columnsFor<BillingAccount>();
const accountColumns = ac.columns([
  ac.accessor('accountId', {
    header: 'Account',
    cell: (x) => (
      <Link to="/accounts/$accountId" params={{ accountId: x.getValue() }} className="mono">
        {x.getValue()}
      </Link>
    ),
  }),
  ac.accessor((r) => r.method.kind, {
    id: 'method',
    header: 'Pays by',
    cell: (x) => methodText(x.row.original.method),
  }),
  ac.accessor('currency', { header: 'Currency' }),
  ac.accessor('status', { header: 'Standing', cell: (x) => <Standing a={x.row.original} /> }),
  ac.accessor((r) => r.policy?.onShortfall ?? '', { id: 'shortfall', header: 'On shortfall' }),
  ac.accessor('openedAt', { header: 'Opened', cell: (x) => dateTime(x.getValue()) }),
  ac.accessor((r) => r.openedBy ?? '', { id: 'openedBy', header: 'Opened by' }),
  ac.accessor('updatedAt', { header: 'Updated', cell: (x) => dateTime(x.getValue()) }),
]);

export function AccountsPage() {
  const auth = useAuth();
  const pages = useCursorPages();
  const [opening, setOpening] = useState(false);
  const q = useQuery({
    queryKey: ['payments', 'accounts', pages.cursor],
    queryFn: ({ signal }) =>
      apiGet<Page<BillingAccount>, 'payments', '/api/v1/accounts'>('payments', '/api/v1/accounts', {
        query: { limit: '50', cursor: pages.cursor },
        signal,
      }),
    enabled: auth.can('viewAccounts'),
  });
  if (!auth.can('viewAccounts')) return <NotAllowed what="Billing accounts" />;
  return (
    <>
      <h1>Billing accounts</h1>
      {auth.can('manageAccounts') && (
        <Section
          title="Open an account"
          id="open-account"
          actions={
            <button type="button" aria-expanded={opening} onClick={() => setOpening(!opening)}>
              {opening ? 'Close' : 'Open an account…'}
            </button>
          }
        >
          {opening ? (
            <OpenAccountForm />
          ) : (
            <p className="muted">
              A billing account pays the sessions of the tokens that name it: by a card saved at the PSP, from a prepaid
              wallet, or on a monthly invoice.
            </p>
          )}
        </Section>
      )}
      <Section title="Accounts" id="accounts">
        <ProblemView error={q.error} />
        <DataTable
          caption="Billing accounts by id (the service's order; column sorting sorts this page)"
          columns={accountColumns}
          rows={q.data?.items}
          rowId={(r) => r.accountId}
          pages={pages}
          nextCursor={q.data?.nextCursor}
          loading={q.isLoading}
          empty={
            auth.can('manageAccounts')
              ? "No billing account yet. Open one above (Open an account…), then give tokens its id (billingAccountId) in the gateway's token registry."
              : 'No billing account yet. A finance or integration key opens them (here, or POST /api/v1/accounts); tokens then name one as their billingAccountId.'
          }
          initialHidden={['openedBy', 'updatedAt']}
          testId="accounts-table"
        />
      </Section>
      {auth.can('viewUnbilled') && <Unbilled />}
    </>
  );
}

const ub = columnsFor<UnbilledCdr>();
const unbilledColumns = ub.columns([
  ub.accessor('cdrId', {
    header: 'CDR',
    cell: (x) => (
      <Link to="/cdrs/$cdrId" params={{ cdrId: x.getValue() }} className="mono">
        {x.getValue()}
      </Link>
    ),
  }),
  ub.accessor((r) => r.billingAccountId ?? '', { id: 'account', header: 'Account named' }),
  ub.accessor('reason', { header: 'Why unbilled' }),
  ub.accessor((r) => Number(r.totalInclVat), {
    id: 'total',
    header: 'Total incl. VAT',
    cell: (x) => `${x.row.original.totalInclVat} ${x.row.original.currency}`,
  }),
  ub.accessor('recordedAt', { header: 'Recorded', cell: (x) => dateTime(x.getValue()) }),
]);

function Unbilled() {
  const pages = useCursorPages();
  const q = useQuery({
    queryKey: ['payments', 'unbilled', pages.cursor],
    queryFn: ({ signal }) =>
      apiGet<Page<UnbilledCdr>, 'payments', '/api/v1/unbilled-cdrs'>('payments', '/api/v1/unbilled-cdrs', {
        query: { limit: '50', cursor: pages.cursor },
        signal,
      }),
  });
  return (
    <Section title="CDRs no account pays" id="unbilled">
      <ProblemView error={q.error} />
      <DataTable
        caption="Unbilled CDRs (no billing account named, or one the payment service does not know)"
        columns={unbilledColumns}
        rows={q.data?.items}
        rowId={(r) => r.cdrId}
        pages={pages}
        nextCursor={q.data?.nextCursor}
        loading={q.isLoading}
        empty="Every CDR has an account that pays it."
        testId="unbilled-table"
      />
    </Section>
  );
}

const bal = columnsFor<LedgerBalance>();
const balanceColumns = bal.columns([
  bal.accessor('account', { header: 'Ledger account', cell: (x) => <span className="mono">{x.getValue()}</span> }),
  bal.accessor('chart', { header: 'Chart' }),
  bal.accessor((r) => Number(r.postedMinor), {
    id: 'posted',
    header: 'Posted (debit > 0)',
    cell: (x) => `${minorToMajor(x.row.original.postedMinor, x.row.original.currency)} ${x.row.original.currency}`,
  }),
  bal.accessor((r) => Number(r.pendingMinor), {
    id: 'pending',
    header: 'Pending (holds)',
    cell: (x) => `${minorToMajor(x.row.original.pendingMinor, x.row.original.currency)} ${x.row.original.currency}`,
  }),
  bal.accessor((r) => Number(r.debitsPostedMinor), {
    id: 'debits',
    header: 'Debits posted',
    cell: (x) => minorToMajor(x.row.original.debitsPostedMinor, x.row.original.currency),
  }),
  bal.accessor((r) => Number(r.creditsPostedMinor), {
    id: 'credits',
    header: 'Credits posted',
    cell: (x) => minorToMajor(x.row.original.creditsPostedMinor, x.row.original.currency),
  }),
]);

const st = columnsFor<Statement>();
const statementColumns = st.columns([
  st.accessor('month', { header: 'Month' }),
  st.accessor((r) => (Array.isArray(r.lines) ? r.lines.length : 0), { id: 'lines', header: 'Lines (CDRs)' }),
  st.accessor((r) => Number(r.totalMinor), {
    id: 'total',
    header: 'Total',
    cell: (x) => `${x.row.original.total} ${x.row.original.currency}`,
  }),
  st.accessor('issuedAt', { header: 'Issued', cell: (x) => dateTime(x.getValue()) }),
  st.accessor('statementId', { header: 'Statement', cell: (x) => <span className="mono small">{x.getValue()}</span> }),
]);

export function AccountPage() {
  const { accountId } = accountRoute.useParams();
  const auth = useAuth();
  const stPages = useCursorPages();
  const [changing, setChanging] = useState(false);
  const account = useQuery({
    queryKey: ['payments', 'account', accountId],
    queryFn: ({ signal }) =>
      apiGet<BillingAccount, 'payments', '/api/v1/accounts/{accountId}'>('payments', '/api/v1/accounts/{accountId}', {
        path: { accountId },
        signal,
      }),
    enabled: auth.can('viewAccounts'),
  });
  const balances = useQuery({
    queryKey: ['payments', 'account-balances', accountId],
    queryFn: ({ signal }) =>
      apiGet<AccountBalances, 'payments', '/api/v1/accounts/{accountId}/balances'>(
        'payments',
        '/api/v1/accounts/{accountId}/balances',
        { path: { accountId }, signal },
      ),
    enabled: auth.can('viewAccounts'),
  });
  const statements = useQuery({
    queryKey: ['payments', 'statements', accountId, stPages.cursor],
    queryFn: ({ signal }) =>
      apiGet<Page<Statement>, 'payments', '/api/v1/accounts/{accountId}/statements'>(
        'payments',
        '/api/v1/accounts/{accountId}/statements',
        { path: { accountId }, query: { limit: '24', cursor: stPages.cursor }, signal },
      ),
    enabled: auth.can('viewStatements'),
  });
  if (!auth.can('viewAccounts')) return <NotAllowed what="Billing accounts" />;
  const a = account.data;
  const wallet = a?.method.kind === 'wallet' ? walletBalanceMinor(balances.data?.balances) : undefined;
  return (
    <>
      <h1>
        Billing account <span className="mono">{accountId}</span>
      </h1>
      <ProblemView error={account.error} />
      {account.isLoading && <Loading what="the account" />}
      {a && (
        <Section
          title="Account"
          id="account"
          actions={
            auth.can('manageAccounts') && !changing ? (
              <button type="button" onClick={() => setChanging(true)}>
                Change how it pays…
              </button>
            ) : undefined
          }
        >
          {changing && <ChangeMethodForm account={a} onDone={() => setChanging(false)} />}
          <dl className="facts" data-testid="account-facts">
            <dt>Pays by</dt>
            <dd data-testid="account-method">{methodText(a.method)}</dd>
            {a.method.kind === 'wallet' ? (
              <>
                <dt>Wallet balance</dt>
                <dd data-testid="wallet-balance" className="num">
                  {balances.isLoading ? '…' : `${minorToMajor(wallet ?? '0', a.currency)} ${a.currency}`}
                </dd>
              </>
            ) : null}
            <dt>Standing</dt>
            <dd data-testid="account-standing">
              <Standing a={a} />
            </dd>
            <dt>Currency</dt>
            <dd>{a.currency}</dd>
            <dt>Policy</dt>
            <dd>
              {a.policy
                ? `hold nearly used: ${a.policy.onHoldNearlyUsed}; shortfall: ${a.policy.onShortfall}`
                : 'the default'}
            </dd>
            <dt>Opened</dt>
            <dd>
              {dateTime(a.openedAt)}
              {a.openedBy ? ` by ${a.openedBy}` : ''}
            </dd>
          </dl>
        </Section>
      )}
      {a?.method.kind === 'wallet' && auth.can('topUpWallets') && (
        <Section title="Top up" id="top-up">
          <TopUpForm account={a} />
        </Section>
      )}
      <Section title="Ledger balances" id="balances">
        <ProblemView error={balances.error} />
        <DataTable
          caption="The account's ledger accounts (minor units shown in the currency; debit > 0)"
          columns={balanceColumns}
          rows={balances.data?.balances}
          rowId={(r) => r.account}
          loading={balances.isLoading}
          empty={
            a?.method.kind === 'wallet' && auth.can('topUpWallets')
              ? 'Nothing posted for this account yet: top it up above; balances appear with its first top-up, hold or CDR.'
              : 'Nothing posted for this account yet: balances appear with its first hold, CDR or top-up.'
          }
          initialHidden={['debits', 'credits']}
          testId="account-balances-table"
        />
        {auth.can('viewLedger') && (
          <p>
            <Link to="/ledger" search={{ billingAccountId: accountId }}>
              Its journal in the ledger →
            </Link>
          </p>
        )}
      </Section>
      <Section title="Statements" id="statements">
        {auth.can('viewStatements') ? (
          <>
            {a?.method.kind === 'invoice' && auth.can('issueStatements') && <IssueStatementForm account={a} />}
            <ProblemView error={statements.error} />
            <DataTable
              caption="Monthly statements of an invoice account, by month"
              columns={statementColumns}
              rows={statements.data?.items}
              rowId={(r) => r.statementId}
              pages={stPages}
              nextCursor={statements.data?.nextCursor}
              loading={statements.isLoading}
              empty={
                a?.method.kind === 'invoice'
                  ? auth.can('issueStatements')
                    ? 'No statement issued yet: issue one for a month above (the service also issues them itself early each month).'
                    : 'No statement issued yet: a finance key issues one per month (the service also does early each month).'
                  : 'Statements are for invoice accounts; this one pays as it charges.'
              }
              testId="statements-table"
            />
          </>
        ) : (
          <NotAllowed what="Statements (finance, integration)" />
        )}
      </Section>
    </>
  );
}

const tr = columnsFor<LedgerTransfer>();
const transferColumns = tr.columns([
  tr.accessor('at', { header: 'At', cell: (x) => dateTime(x.getValue()) }),
  tr.accessor('reason', { header: 'Reason' }),
  tr.accessor('state', {
    header: 'State',
    cell: (x) => (
      <Badge tone={x.getValue() === 'posted' ? 'ok' : x.getValue() === 'voided' ? 'muted' : 'info'}>
        {x.row.original.initialState === 'pending' && x.getValue() !== 'pending'
          ? `pending → ${x.getValue()}`
          : x.getValue()}
      </Badge>
    ),
  }),
  tr.display({
    id: 'postings',
    header: 'Postings (debit > 0)',
    cell: (x) => (
      <ul className="compact postings">
        {x.row.original.postings.map((p, i) => (
          <li key={i}>
            <span className="mono small">{p.account}</span> {minorToMajor(p.amountMinor, x.row.original.currency)}
          </li>
        ))}
      </ul>
    ),
  }),
  tr.accessor((r) => r.accountId ?? '', {
    id: 'account',
    header: 'Billing account',
    cell: (x) =>
      x.getValue() ? (
        <Link to="/accounts/$accountId" params={{ accountId: x.getValue() }} className="mono">
          {x.getValue()}
        </Link>
      ) : null,
  }),
  tr.accessor((r) => r.sessionId ?? '', {
    id: 'session',
    header: 'Session',
    cell: (x) =>
      x.getValue() ? (
        <Link to="/sessions/$sessionId/payment" params={{ sessionId: x.getValue() }} className="mono">
          {x.getValue().slice(0, 8)}
        </Link>
      ) : null,
  }),
  tr.accessor('transferId', { header: 'Transfer', cell: (x) => <span className="mono small">{x.getValue()}</span> }),
]);

type LedgerFilters = { account: string; billingAccountId: string; sessionId: string };

export function LedgerPage() {
  const auth = useAuth();
  const search = ledgerRoute.useSearch();
  const initial: LedgerFilters = {
    account: '',
    billingAccountId: search.billingAccountId ?? '',
    sessionId: '',
  };
  const [f, setF] = useState<LedgerFilters>(initial);
  const pages = useCursorPages();
  const balPages = useCursorPages();
  const entries = useQuery({
    queryKey: ['payments', 'ledger-entries', f, pages.cursor],
    queryFn: ({ signal }) =>
      apiGet<Page<LedgerTransfer>, 'payments', '/api/v1/ledger/entries'>('payments', '/api/v1/ledger/entries', {
        query: {
          limit: '50',
          cursor: pages.cursor,
          account: f.account || undefined,
          billingAccountId: f.billingAccountId || undefined,
          sessionId: f.sessionId || undefined,
        },
        signal,
      }),
    enabled: auth.can('viewLedger'),
  });
  const balances = useQuery({
    queryKey: ['payments', 'ledger-balances', balPages.cursor],
    queryFn: ({ signal }) =>
      apiGet<Page<LedgerBalance>, 'payments', '/api/v1/ledger/balances'>('payments', '/api/v1/ledger/balances', {
        query: { limit: '50', cursor: balPages.cursor },
        signal,
      }),
    enabled: auth.can('viewLedger'),
  });
  if (!auth.can('viewLedger')) return <NotAllowed what="The ledger (finance, integration)" />;
  return (
    <>
      <h1>Ledger</h1>
      <Section title="Journal" id="journal">
        <FilterForm
          label="Journal filters"
          initial={initial}
          onApply={(v) => {
            setF(v);
            pages.reset();
          }}
        >
          {(v, set) => (
            <>
              <label>
                Ledger account{' '}
                <input
                  value={v.account}
                  placeholder="psp_clearing:EUR"
                  onChange={(e) => set('account', e.target.value)}
                />
              </label>
              <label>
                Billing account{' '}
                <input value={v.billingAccountId} onChange={(e) => set('billingAccountId', e.target.value)} />
              </label>
              <label>
                Session <input value={v.sessionId} onChange={(e) => set('sessionId', e.target.value)} />
              </label>
            </>
          )}
        </FilterForm>
        <ProblemView error={entries.error} />
        <DataTable
          caption="Transfers with their postings, oldest first (the service's order)"
          columns={transferColumns}
          rows={entries.data?.items}
          rowId={(r) => r.transferId}
          pages={pages}
          nextCursor={entries.data?.nextCursor}
          loading={entries.isLoading}
          empty="No transfer matches. Transfers are posted as holds, CDRs, captures, top-ups and refunds happen; clear the filters."
          initialHidden={['transferId']}
          testId="ledger-table"
        />
      </Section>
      <Section title="Balances" id="ledger-balances">
        <ProblemView error={balances.error} />
        <DataTable
          caption="Every ledger account by name (each currency sums to zero)"
          columns={balanceColumns}
          rows={balances.data?.items}
          rowId={(r) => r.account}
          pages={balPages}
          nextCursor={balances.data?.nextCursor}
          loading={balances.isLoading}
          empty="The ledger is empty: nothing was held, charged or topped up yet."
          testId="ledger-balances-table"
        />
      </Section>
    </>
  );
}

/** A session's payment: its status and the steps (hold → capture / release / refund), and its journal. */
export function SessionPayment({ sessionId, compact }: { sessionId: string; compact?: boolean }) {
  const auth = useAuth();
  const record = useQuery({
    queryKey: ['payments', 'payment', sessionId],
    queryFn: ({ signal }) =>
      apiGet<PaymentRecord, 'payments', '/api/v1/sessions/{sessionId}/payment'>(
        'payments',
        '/api/v1/sessions/{sessionId}/payment',
        { path: { sessionId }, signal },
      ),
    enabled: auth.can('viewPayments'),
    retry: (n, e) => !(e instanceof ApiError && e.status === 404) && n < 2,
  });
  const journal = useQuery({
    queryKey: ['payments', 'journal', sessionId],
    queryFn: ({ signal }) =>
      apiGet<SessionJournal, 'payments', '/api/v1/sessions/{sessionId}/journal'>(
        'payments',
        '/api/v1/sessions/{sessionId}/journal',
        { path: { sessionId }, signal },
      ),
    enabled: auth.can('viewPayments'),
    retry: (n, e) => !(e instanceof ApiError && e.status === 404) && n < 2,
  });
  if (!auth.can('viewPayments')) return <NotAllowed what="Payments" />;
  if (record.isLoading) return <Loading what="the payment" />;
  const notFound = record.error instanceof ApiError && record.error.status === 404;
  if (notFound)
    return (
      <p className="empty" data-testid="payment-none">
        No payment for this session: its token has no billing account the payment service knows (the CDR is then listed
        under Accounts → CDRs no account pays), or the payment service has not read the session yet.
      </p>
    );
  const rec = record.data;
  if (!rec) return <ProblemView error={record.error} />;
  const steps = paymentTimeline(rec, journal.data);
  const cur = rec.currency;
  return (
    <div data-testid="payment">
      <dl className="facts compact">
        <dt>Status</dt>
        <dd data-testid="payment-status">
          <Badge
            tone={statusTone(rec.status === 'captured' || rec.status === 'paid_by_wallet' ? 'accepted' : rec.status)}
          >
            {rec.status}
          </Badge>
        </dd>
        <dt>Account</dt>
        <dd>
          {rec.accountId ? (
            <Link to="/accounts/$accountId" params={{ accountId: rec.accountId }} className="mono">
              {rec.accountId}
            </Link>
          ) : (
            '—'
          )}
        </dd>
        <dt>Captured</dt>
        <dd>
          {minorToMajor(rec.capturedMinor, cur)} {cur}
          {rec.refundedMinor !== '0' ? `, refunded ${minorToMajor(rec.refundedMinor, cur)} ${cur}` : ''}
        </dd>
        {rec.hold?.expiresAt ? (
          <>
            <dt>Hold expires</dt>
            <dd>{dateTime(rec.hold.expiresAt)}</dd>
          </>
        ) : null}
      </dl>
      <ol className="timeline" aria-label="Payment timeline" data-testid="payment-timeline">
        {steps.map((s, i) => (
          <li key={i} data-kind={s.kind}>
            <span className="when">{s.at ? dateTime(s.at) : 'at the start'}</span>{' '}
            <Badge tone={s.tone}>{s.label}</Badge>
            {s.amountMinor !== undefined ? (
              <strong className="num">
                {' '}
                {minorToMajor(s.amountMinor, cur)} {cur}
              </strong>
            ) : null}
            {s.ref ? <span className="mono small muted"> {s.ref}</span> : null}
          </li>
        ))}
      </ol>
      {!compact && journal.data && (
        <>
          <p data-testid="journal-balanced">
            Journal:{' '}
            <Badge tone={journal.data.balanced ? 'ok' : 'bad'}>
              {journal.data.balanced ? 'balanced' : 'not balanced'}
            </Badge>{' '}
            <span className="muted">the posted transfers of the session sum to zero</span>
          </p>
          <DataTable
            caption="The session's ledger transfers, in order"
            columns={transferColumns}
            rows={journal.data.transfers}
            rowId={(r) => r.transferId}
            loading={journal.isLoading}
            empty="No transfer for this session."
            initialHidden={['transferId', 'session']}
            testId="journal-table"
          />
        </>
      )}
      {!compact && (
        <ProblemView error={journal.error instanceof ApiError && journal.error.status === 404 ? null : journal.error} />
      )}
    </div>
  );
}

export function SessionPaymentPage() {
  const { sessionId } = paymentRoute.useParams();
  return (
    <>
      <h1>
        Payment of session <span className="mono">{sessionId}</span>
      </h1>
      <p>
        <Link to="/sessions/$sessionId" params={{ sessionId }}>
          The session →
        </Link>
      </p>
      <Section title="Payment timeline" id="payment-timeline">
        <SessionPayment sessionId={sessionId} />
      </Section>
    </>
  );
}
