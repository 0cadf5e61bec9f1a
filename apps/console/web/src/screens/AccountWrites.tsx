/**
 * The payment service's writes a finance (or integration) key may make from the console: open a billing account
 * (card on file, wallet, invoice), change how it pays or its policy, top up a wallet, issue an invoice account's
 * statement of a month. Each form sends the API's own body (typed from its OpenAPI document) and shows a refusal's
 * field error beside that field (`body/accountId`, `body/method/creditLimitMinor`, `body/amount`, `body/month`, …),
 * any other problem below the form.
 */
import { useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useNavigate } from '@tanstack/react-router';
import { apiPost, apiPut } from '../api/client';
import type { BillingAccount, Statement } from '../api/views';
import { Busy, Field, ProblemView, fieldProblem } from '../components/common';
import { methodBody, previousMonth, type MethodForm, type PolicyBody } from './account-writes';
import { minorToMajor } from './payment-timeline';

const DEFAULT_POLICY: PolicyBody = { onHoldNearlyUsed: 'increase', onShortfall: 'block' };

/** the problem when no field of the form takes it (shown below the form) */
const elsewhere = (error: unknown, fields: string[]) => (error && !fieldProblem(error, ...fields) ? error : null);

/** how the account pays: the kind, and the kind's own fields */
function MethodFields({
  idPrefix,
  f,
  set,
  error,
  currency,
}: {
  idPrefix: string;
  f: MethodForm;
  set: (v: Partial<MethodForm>) => void;
  error: unknown;
  currency: string;
}) {
  const kindError =
    fieldProblem(error, 'method') &&
    !fieldProblem(error, 'method/customerRef', 'method/paymentMethodRef', 'method/creditLimitMinor')
      ? fieldProblem(error, 'method')
      : undefined;
  return (
    <>
      <fieldset className="inline" aria-describedby={kindError ? `${idPrefix}-kind-error` : undefined}>
        <legend>Pays by</legend>
        {(['card', 'wallet', 'invoice'] as const).map((k) => (
          <label key={k} className="radio">
            <input
              type="radio"
              name={`${idPrefix}-kind`}
              value={k}
              checked={f.kind === k}
              onChange={() => set({ kind: k })}
            />{' '}
            {k === 'card' ? 'card on file' : k === 'wallet' ? 'prepaid wallet' : 'invoice'}
          </label>
        ))}
        {kindError && (
          <p
            id={`${idPrefix}-kind-error`}
            role="alert"
            className="field-error static"
            data-testid={`${idPrefix}-kind-error`}
          >
            <code>{kindError.field?.replace(/^body\/?/, '')}</code> — {kindError.message}
          </p>
        )}
      </fieldset>
      {f.kind === 'card' && (
        <>
          <Field
            label="PSP customer"
            id={`${idPrefix}-customer`}
            error={fieldProblem(error, 'method/customerRef')}
            hint="the customer at the PSP (cus_…), made when the driver saved the card"
          >
            {(a) => (
              <input
                {...a}
                value={f.customerRef}
                placeholder="cus_…"
                required
                onChange={(e) => set({ customerRef: e.target.value })}
              />
            )}
          </Field>
          <Field
            label="PSP payment method"
            id={`${idPrefix}-pm`}
            error={fieldProblem(error, 'method/paymentMethodRef')}
            hint="the card saved on that customer (pm_…)"
          >
            {(a) => (
              <input
                {...a}
                value={f.paymentMethodRef}
                placeholder="pm_…"
                required
                onChange={(e) => set({ paymentMethodRef: e.target.value })}
              />
            )}
          </Field>
        </>
      )}
      {f.kind === 'invoice' && (
        <Field
          label="Credit limit (minor units)"
          id={`${idPrefix}-credit`}
          error={fieldProblem(error, 'method/creditLimitMinor')}
          hint={
            /^[0-9]{1,18}$/.test(f.creditLimitMinor)
              ? `= ${minorToMajor(f.creditLimitMinor, currency)} ${currency}`
              : 'an integer: cents for EUR'
          }
        >
          {(a) => (
            <input
              {...a}
              inputMode="numeric"
              value={f.creditLimitMinor}
              onChange={(e) => set({ creditLimitMinor: e.target.value })}
            />
          )}
        </Field>
      )}
    </>
  );
}

function PolicyFields({ idPrefix, p, set }: { idPrefix: string; p: PolicyBody; set: (p: PolicyBody) => void }) {
  return (
    <>
      <Field label="When a hold is nearly used" id={`${idPrefix}-hold`}>
        {(a) => (
          <select
            {...a}
            value={p.onHoldNearlyUsed}
            onChange={(e) => set({ ...p, onHoldNearlyUsed: e.target.value as PolicyBody['onHoldNearlyUsed'] })}
          >
            <option value="increase">raise the hold</option>
            <option value="stop">stop the session</option>
          </select>
        )}
      </Field>
      <Field label="On a shortfall" id={`${idPrefix}-shortfall`}>
        {(a) => (
          <select
            {...a}
            value={p.onShortfall}
            onChange={(e) => set({ ...p, onShortfall: e.target.value as PolicyBody['onShortfall'] })}
          >
            <option value="block">block the account</option>
            <option value="allow">allow (a receivable)</option>
          </select>
        )}
      </Field>
    </>
  );
}

const EMPTY_METHOD: MethodForm = { kind: 'wallet', customerRef: '', paymentMethodRef: '', creditLimitMinor: '' };

/** POST /accounts: opens the account and goes to it */
export function OpenAccountForm() {
  const qc = useQueryClient();
  const navigate = useNavigate();
  const [accountId, setAccountId] = useState('');
  const [currency, setCurrency] = useState('EUR');
  const [method, setMethod] = useState<MethodForm>(EMPTY_METHOD);
  const [policy, setPolicy] = useState<PolicyBody>(DEFAULT_POLICY);
  const open = useMutation({
    mutationFn: () =>
      apiPost<BillingAccount, 'payments', '/api/v1/accounts'>('payments', '/api/v1/accounts', {
        body: { accountId: accountId.trim(), currency, method: methodBody(method), policy },
      }),
    onSuccess: async (a) => {
      await qc.invalidateQueries({ queryKey: ['payments'] });
      await navigate({ to: '/accounts/$accountId', params: { accountId: a.accountId } });
    },
  });
  const e = open.error;
  const touch = () => open.error && open.reset();
  return (
    <form
      className="filters write"
      aria-label="Open a billing account"
      onSubmit={(ev) => {
        ev.preventDefault();
        open.mutate();
      }}
    >
      <Field
        label="Account id"
        id="open-account-id"
        error={fieldProblem(e, 'accountId')}
        hint="what tokens name as their billingAccountId"
      >
        {(a) => (
          <input
            {...a}
            value={accountId}
            required
            placeholder="acct-1001"
            onChange={(ev) => {
              setAccountId(ev.target.value);
              touch();
            }}
          />
        )}
      </Field>
      <Field label="Currency" id="open-currency" error={fieldProblem(e, 'currency')} hint="ISO 4217, never changes">
        {(a) => (
          <input
            {...a}
            value={currency}
            size={4}
            onChange={(ev) => {
              setCurrency(ev.target.value.toUpperCase());
              touch();
            }}
          />
        )}
      </Field>
      <MethodFields
        idPrefix="open"
        f={method}
        currency={currency}
        error={e}
        set={(v) => {
          setMethod({ ...method, ...v });
          touch();
        }}
      />
      <PolicyFields idPrefix="open" p={policy} set={setPolicy} />
      <button type="submit" disabled={open.isPending}>
        {open.isPending ? 'Opening…' : 'Open account'}
      </button>
      {open.isPending && <Busy what="the payment service is opening the account" />}
      <ProblemView
        error={elsewhere(e, [
          'accountId',
          'currency',
          'method/customerRef',
          'method/paymentMethodRef',
          'method/creditLimitMinor',
          'method',
        ])}
      />
    </form>
  );
}

const methodForm = (a: BillingAccount): MethodForm => ({
  ...EMPTY_METHOD,
  ...(a.method as Partial<MethodForm>),
  kind: a.method.kind,
});

/** PUT /accounts/{id}: another way to pay or another policy (never the currency) */
export function ChangeMethodForm({ account, onDone }: { account: BillingAccount; onDone: () => void }) {
  const qc = useQueryClient();
  const [method, setMethod] = useState<MethodForm>(() => methodForm(account));
  const [policy, setPolicy] = useState<PolicyBody>((account.policy as PolicyBody | null) ?? DEFAULT_POLICY);
  const save = useMutation({
    mutationFn: () =>
      apiPut<BillingAccount, 'payments', '/api/v1/accounts/{accountId}'>('payments', '/api/v1/accounts/{accountId}', {
        path: { accountId: account.accountId },
        body: { method: methodBody(method), policy },
      }),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: ['payments'] });
      onDone();
    },
  });
  return (
    <form
      className="filters write"
      aria-label="Change how the account pays"
      onSubmit={(ev) => {
        ev.preventDefault();
        save.mutate();
      }}
    >
      <MethodFields
        idPrefix="change"
        f={method}
        currency={account.currency}
        error={save.error}
        set={(v) => {
          setMethod({ ...method, ...v });
          if (save.error) save.reset();
        }}
      />
      <PolicyFields idPrefix="change" p={policy} set={setPolicy} />
      <button type="submit" disabled={save.isPending}>
        {save.isPending ? 'Saving…' : 'Save'}
      </button>
      <button type="button" onClick={onDone}>
        Cancel
      </button>
      {save.isPending && <Busy what="the payment service is changing the account" />}
      <ProblemView
        error={elsewhere(save.error, [
          'method/customerRef',
          'method/paymentMethodRef',
          'method/creditLimitMinor',
          'method',
        ])}
      />
    </form>
  );
}

interface TopUpAnswer {
  accountId: string;
  topUpRef: string;
  events: Array<{ id: string; type: string }>;
}

/** a top-up reference made when the form is shown: sending the form twice (a double click) is one top-up */
const newTopUpRef = () => `console-${crypto.randomUUID()}`;

/** POST /accounts/{id}/top-ups */
export function TopUpForm({ account }: { account: BillingAccount }) {
  const qc = useQueryClient();
  const [amount, setAmount] = useState('');
  const [via, setVia] = useState<'psp' | 'bank'>('psp');
  const [ref, setRef] = useState(newTopUpRef);
  const [done, setDone] = useState<string | undefined>();
  const topUp = useMutation({
    mutationFn: () =>
      apiPost<TopUpAnswer, 'payments', '/api/v1/accounts/{accountId}/top-ups'>(
        'payments',
        '/api/v1/accounts/{accountId}/top-ups',
        { path: { accountId: account.accountId }, body: { topUpRef: ref, amount: amount.trim(), via } },
      ),
    onSuccess: async (r) => {
      setDone(`${amount.trim()} ${account.currency} topped up (${r.topUpRef}).`);
      setAmount('');
      setRef(newTopUpRef());
      await qc.invalidateQueries({ queryKey: ['payments'] });
    },
  });
  const e = topUp.error;
  return (
    <form
      className="filters write"
      aria-label="Top up the wallet"
      onSubmit={(ev) => {
        ev.preventDefault();
        setDone(undefined);
        topUp.mutate();
      }}
    >
      <Field
        label={`Amount (${account.currency})`}
        id="topup-amount"
        error={fieldProblem(e, 'amount')}
        hint="exact in the currency's minor unit, e.g. 25.00"
      >
        {(a) => (
          <input
            {...a}
            inputMode="decimal"
            value={amount}
            required
            onChange={(ev) => {
              setAmount(ev.target.value);
              if (topUp.error) topUp.reset();
            }}
          />
        )}
      </Field>
      <Field label="Paid via" id="topup-via">
        {(a) => (
          <select {...a} value={via} onChange={(ev) => setVia(ev.target.value as 'psp' | 'bank')}>
            <option value="psp">the PSP</option>
            <option value="bank">a bank transfer</option>
          </select>
        )}
      </Field>
      <button type="submit" disabled={topUp.isPending}>
        {topUp.isPending ? 'Topping up…' : 'Top up'}
      </button>
      {topUp.isPending && <Busy what="the payment service is posting the top-up" />}
      {done && (
        <p role="status" className="muted" data-testid="topup-done">
          {done}
        </p>
      )}
      <ProblemView error={elsewhere(e, ['amount'])} />
    </form>
  );
}

/** POST /accounts/{id}/statements (finance) */
export function IssueStatementForm({ account }: { account: BillingAccount }) {
  const qc = useQueryClient();
  const [month, setMonth] = useState(() => previousMonth(new Date().toISOString().slice(0, 10)));
  const [done, setDone] = useState<string | undefined>();
  const issue = useMutation({
    mutationFn: () =>
      apiPost<Statement, 'payments', '/api/v1/accounts/{accountId}/statements'>(
        'payments',
        '/api/v1/accounts/{accountId}/statements',
        { path: { accountId: account.accountId }, body: { month } },
      ),
    onSuccess: async (s) => {
      setDone(
        `Statement of ${s.month}: ${Array.isArray(s.lines) ? s.lines.length : 0} CDRs, ${s.total} ${s.currency}.`,
      );
      await qc.invalidateQueries({ queryKey: ['payments', 'statements', account.accountId] });
    },
  });
  return (
    <form
      className="filters write"
      aria-label="Issue a statement"
      onSubmit={(ev) => {
        ev.preventDefault();
        setDone(undefined);
        issue.mutate();
      }}
    >
      <Field
        label="Month"
        id="statement-month"
        error={fieldProblem(issue.error, 'month')}
        hint="its lines: the CDRs up to that month not on a statement yet; the same month again is the same statement"
      >
        {(a) => (
          <input
            {...a}
            type="month"
            value={month}
            required
            onChange={(ev) => {
              setMonth(ev.target.value);
              if (issue.error) issue.reset();
            }}
          />
        )}
      </Field>
      <button type="submit" disabled={issue.isPending}>
        {issue.isPending ? 'Issuing…' : 'Issue statement'}
      </button>
      {issue.isPending && <Busy what="the payment service is issuing the statement" />}
      {done && (
        <p role="status" className="muted" data-testid="statement-done">
          {done}
        </p>
      )}
      <ProblemView error={elsewhere(issue.error, ['month'])} />
    </form>
  );
}
