/**
 * The console in a real browser (Debian's chromium through playwright-core) against the running system: the
 * five services as processes and the PSP emulator (console-system.ts) with the simulator's sessions paid by card,
 * wallet and invoice and a faulted connector (console-seed.ts), the console built with Vite and served by its own
 * server. Logs in with keys of three roles, sees the revenue chart (the reporting service's report) and downloads
 * its CSV and the CDR export and checks their totals, opens a CDR's audit down to its raw OCPP frames, follows a
 * card session's payment from hold to capture and its journal, the accounts and the ledger, publishes a tariff with a
 * wrong field and sees the error at the field, acknowledges an alarm, sends a reset and sees it accepted; runs
 * axe-core on each screen (no serious or critical violation) and writes a screenshot of each (to docs/console with CONSOLE_SCREENSHOTS=docs/console).
 * Also fails when the API types checked in under apps/console/web/src/api/generated are not those the running
 * services' OpenAPI documents give (regenerate: see apps/console/README.md).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { waitFor } from '@csms/testing';
import { CONSOLE_SERVICES, startConsoleServer } from '../../apps/console/server';
import { seedConsoleData, type Seeded } from './console-seed';
import { startSystem, type RunningSystem } from './console-system';

const ROOT = path.resolve(__dirname, '..', '..');
/** a civil day n days from today (UTC) */
/**
 * A data table's rows: not its "loading…" row nor its "nothing here" row, which are `tbody tr` too (each one cell
 * spanning the columns). Waiting for the first `tbody tr` returned while the table was still loading.
 */
const DATA_ROWS = 'tbody tr:not(:has(> td[colspan]))';
const dayOffset = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);
const cents = (d: string) => {
  const [w, f = ''] = d.replace('-', '').split('.');
  const v = BigInt(w + f.padEnd(2, '0').slice(0, 2));
  return d.startsWith('-') ? -v : v;
};
const money = (c: bigint) =>
  `${c < 0n ? '-' : ''}${(c < 0n ? -c : c) / 100n}.${String((c < 0n ? -c : c) % 100n).padStart(2, '0')}`;
/** a CSV of the reporting service (no quoted fields in these) as objects by its header */
const csvRows = (text: string) => {
  const [head, ...lines] = text.trim().split(/\r?\n/);
  const cols = head.split(',');
  return { cols, rows: lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i], v]))) };
};
// the README's pictures are refreshed on purpose (CONSOLE_SCREENSHOTS=docs/console); a plain test run leaves the tree clean
const SHOTS = process.env.CONSOLE_SCREENSHOTS
  ? path.resolve(ROOT, process.env.CONSOLE_SCREENSHOTS)
  : path.join(tmpdir(), `csms-console-shots-${process.pid}`);
const GENERATED_DIR = path.join(ROOT, 'apps', 'console', 'web', 'src', 'api', 'generated');

/**
 * The console's scripts as their own processes: Vite and openapi-typescript are ES modules that jest's
 * CommonJS runtime on Node 20 cannot load.
 */
function runScript(script: string, args: string[], env: Record<string, string> = {}): void {
  const r = spawnSync(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`${script} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
}

describe('the console in Chromium against the running system', () => {
  let sys: RunningSystem;
  let seeded: Seeded;
  let consoleUrl: string;
  let server: Server;
  let browser: Browser;
  let outDir: string;

  const api = async <T>(base: string, p: string, key: string): Promise<T> => {
    const r = await fetch(`${base}${p}`, { headers: { authorization: `Bearer ${key}` } });
    expect(r.status).toBe(200);
    return (await r.json()) as T;
  };

  /** the PSP's settlement report starts before the seeded payments (unix seconds) */
  let reportStart: number;

  beforeAll(async () => {
    reportStart = Math.floor(Date.now() / 1000) - 60;
    outDir = mkdtempSync(path.join(tmpdir(), 'csms-console-'));
    runScript('apps/console/scripts/build.ts', ['--out', outDir]);
    sys = await startSystem('console');
    const started = await startConsoleServer({
      staticDir: outDir,
      port: 0,
      upstreams: sys.consoleUpstreams,
    });
    consoleUrl = started.url;
    server = started.server;
    seeded = await seedConsoleData({
      gatewayUrl: sys.urls['ocpp-gateway'],
      tariffUrl: sys.urls['tariff-service'],
      paymentUrl: sys.urls['payment-service'],
      psp: sys.psp,
      ocppUrl: sys.ocppUrl,
      adminKey: sys.keys.admin,
      sessionsPerConnector: 1,
      speed: 60,
    });
    // every session priced before the browser looks
    await waitFor(
      async () =>
        (await api<{ items: unknown[] }>(sys.urls['tariff-service'], '/api/v1/cdrs?limit=500', sys.keys.admin)).items
          .length >= seeded.sessionsCompleted,
      { what: `${seeded.sessionsCompleted} CDRs`, timeoutMs: 120_000 },
    );
    // …and the revenue report and the payments have them too
    await waitFor(
      async () => {
        const r = await api<{ totals: Array<{ cdrs: number | string }> }>(
          sys.urls['reporting-service'],
          `/api/v1/reports/revenue?from=${dayOffset(-7)}&to=${dayOffset(3)}`,
          sys.keys.admin,
        );
        return r.totals.reduce((n, t) => n + Number(t.cdrs), 0) >= seeded.sessionsCompleted;
      },
      { what: 'every CDR in the revenue report', timeoutMs: 120_000 },
    );
    browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium' });
    mkdirSync(SHOTS, { recursive: true });
  }, 900_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    server?.close();
    await seeded?.stop();
    await sys?.stop();
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  }, 120_000);

  const pageErrors: string[] = [];
  const contexts: BrowserContext[] = [];
  afterEach(() => expect(pageErrors.splice(0)).toEqual([]));

  /** a new browser context (its own session storage), 1280 px wide or a tablet's 820 px */
  const newPage = async (width = 1280): Promise<Page> => {
    const context = await browser.newContext({ viewport: { width, height: 900 } });
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    contexts.push(context);
    return page;
  };

  /** a new tab signed in with this key */
  const signedIn = async (key: string, width = 1280): Promise<Page> => {
    const page = await newPage(width);
    await page.goto(consoleUrl);
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('role').waitFor();
    return page;
  };

  /** no serious or critical axe-core violation (WCAG 2.1 A and AA rules) on the screen as it is */
  const accessible = async (page: Page, screen: string) => {
    const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
    const bad = result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${screen}: ${v.id} (${v.impact}) ${v.help}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    expect(bad).toEqual([]);
  };
  const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

  it('has the API types the running services describe (regenerate them when this fails)', async () => {
    const fresh = mkdtempSync(path.join(tmpdir(), 'csms-console-types-'));
    try {
      runScript('apps/console/scripts/gen-api-types.ts', ['--out', fresh], {
        CONSOLE_GATEWAY_URL: sys.urls['ocpp-gateway'],
        CONSOLE_SESSIONS_URL: sys.urls['session-service'],
        CONSOLE_TARIFFS_URL: sys.urls['tariff-service'],
        CONSOLE_REPORTING_URL: sys.urls['reporting-service'],
        CONSOLE_PAYMENTS_URL: sys.urls['payment-service'],
      });
      for (const s of CONSOLE_SERVICES)
        expect({ file: `${s}.ts`, text: readFileSync(path.join(GENERATED_DIR, `${s}.ts`), 'utf8') }).toEqual({
          file: `${s}.ts`,
          text: readFileSync(path.join(fresh, `${s}.ts`), 'utf8'),
        });
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  }, 60_000);

  it('refuses an unknown key and shows the problem; keeps the key in session storage only', async () => {
    const page = await newPage();
    await page.goto(consoleUrl);
    await accessible(page, 'login');
    await shot(page, 'login');
    await page.getByLabel('API key').fill('csms_operator_not-a-key-the-services-know-of-at-all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('do not know this API key');
    await page.getByLabel('API key').fill(sys.keys.operator);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByTestId('role').textContent()).resolves.toContain('operator');
    expect(await page.evaluate<string>('JSON.stringify(localStorage)')).not.toContain('csms_');
    expect(await page.evaluate<string | null>("sessionStorage.getItem('csms.console.session')")).toContain(
      sys.keys.operator,
    );
    await page.close();
  }, 60_000);

  it('finance: the dashboard shows revenue per day from the revenue report, with totals equal to the CDR API, also in its CSV', async () => {
    const page = await signedIn(sys.keys.finance);
    // the role decides the screens: finance sees no station monitoring
    await expect(page.getByRole('link', { name: 'Stations', exact: true }).count()).resolves.toBe(0);
    await page.getByTestId('revenue-chart').locator('svg').waitFor();
    await page.getByTestId('daily-table').waitFor();
    const cdrs = (
      await api<{ items: Array<{ total_cost: { excl_vat: string } }> }>(
        sys.urls['tariff-service'],
        '/api/v1/cdrs?limit=500',
        sys.keys.finance,
      )
    ).items;
    const total = cdrs.reduce((a, c) => a + cents(c.total_cost.excl_vat), 0n);
    // every day's row (the sites' civil days): sessions and revenue sum to the CDR API's
    const rows = await page.getByTestId('daily-table').locator('tbody tr').all();
    let sessions = 0;
    let revenue = 0n;
    for (const row of rows) {
      const cells = await row.locator('td').allTextContents();
      sessions += Number(cells[2]);
      revenue += cents(cells[4]);
    }
    expect(sessions).toBe(cdrs.length);
    expect(money(revenue)).toBe(money(total));
    // the CSV download is the reporting service's own CSV of the same report: its totals are the API's
    const [file] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download CSV' }).click(),
    ]);
    const csv = csvRows(readFileSync(await file.path(), 'utf8'));
    expect(csv.cols).toEqual(expect.arrayContaining(['day', 'currency', 'site_id', 'sessions', 'net', 'gross']));
    expect(money(csv.rows.reduce((a, r) => a + cents(r.net), 0n))).toBe(money(total));
    expect(csv.rows.reduce((n, r) => n + Number(r.sessions), 0)).toBe(cdrs.length);
    expect(new Set(csv.rows.map((r) => r.site_id))).toEqual(new Set([seeded.site]));
    await page.getByTestId('completeness').waitFor();
    await accessible(page, 'dashboard');
    await shot(page, 'dashboard');
    await page.close();
  }, 120_000);

  it('finance: downloads the CDR export from the reports screen; its rows and totals are the CDR API’s', async () => {
    const page = await signedIn(sys.keys.finance);
    await page.getByRole('link', { name: 'Reports', exact: true }).click();
    const cdrs = (
      await api<{ items: Array<{ id: string; total_cost: { excl_vat: string; incl_vat?: string } }> }>(
        sys.urls['tariff-service'],
        '/api/v1/cdrs?limit=500',
        sys.keys.finance,
      )
    ).items;
    const section = page.locator('#export-cdrs');
    const [file] = await Promise.all([
      page.waitForEvent('download'),
      section.getByRole('button', { name: 'Download CSV' }).click(),
    ]);
    const csv = csvRows(readFileSync(await file.path(), 'utf8'));
    expect(csv.rows.map((r) => r.cdr_id).sort()).toEqual(cdrs.map((c) => c.id).sort());
    expect(money(csv.rows.reduce((a, r) => a + cents(r.net), 0n))).toBe(
      money(cdrs.reduce((a, c) => a + cents(c.total_cost.excl_vat), 0n)),
    );
    expect(money(csv.rows.reduce((a, r) => a + cents(r.gross), 0n))).toBe(
      money(cdrs.reduce((a, c) => a + cents(c.total_cost.incl_vat ?? '0'), 0n)),
    );
    await page.getByTestId('export-cdrs-done').waitFor();
    await accessible(page, 'reports');
    await shot(page, 'reports');
    await page.close();
  }, 120_000);

  it('finance: sees the CDRs and opens one down to its audit and the inbound records it was built from', async () => {
    const page = await signedIn(sys.keys.finance);
    await page.getByRole('link', { name: 'CDRs', exact: true }).click();
    const rows = page.getByTestId('cdrs-table').locator('tbody tr');
    await waitFor(async () => (await rows.count()) === seeded.sessionsCompleted, { what: 'every CDR listed' });
    await accessible(page, 'cdrs');
    await shot(page, 'cdrs');
    await rows.first().getByRole('link').first().click();
    await page.getByTestId('audit-facts').waitFor();
    await expect(page.getByTestId('tariff-version-link').textContent()).resolves.toBe(`${seeded.tariffId} v1`);
    expect(await page.getByTestId('audit-periods').locator('tbody tr').count()).toBeGreaterThan(0);
    await expect(page.getByTestId('unrounded-totals').textContent()).resolves.toContain('total cost');
    await page.getByTestId('periods-chart').locator('svg').waitFor();
    await page.getByTestId('data-quality').waitFor();
    const sources = page.getByTestId('sources-table').locator('tbody tr');
    await waitFor(
      async () => (await sources.count()) > 0 && !(await sources.first().textContent())?.includes('loading'),
      {
        what: 'the inbound records',
      },
    );
    expect(await sources.first().textContent()).toContain('ocpp-inbound');
    // the raw frames themselves, read back from the log, each the record the session used
    const frames = page.getByTestId('raw-frames-table').locator('tbody tr');
    await waitFor(async () => (await frames.first().textContent())?.includes('record id matches') === true, {
      what: 'the raw frames',
    });
    const frameTexts = await frames.allTextContents();
    expect(frameTexts.every((t) => t.includes('record id matches'))).toBe(true);
    expect(frameTexts.join('\n')).toMatch(/StartTransaction|TransactionEvent/);
    await page.getByTestId('readings-table').locator(DATA_ROWS).first().waitFor();
    // the API behind it: every source position, each found in the log with the id the session service kept
    const sessionId = new URL(page.url()).pathname.split('/').pop() ?? '';
    const cdr = await api<{ session_id: string }>(
      sys.urls['tariff-service'],
      `/api/v1/cdrs/${sessionId}`,
      sys.keys.finance,
    );
    const positions = await api<{ items: Array<{ eventId: string; partition: number; offset: string }> }>(
      sys.urls['session-service'],
      `/api/v1/sessions/${cdr.session_id}/sources?limit=100`,
      sys.keys.finance,
    );
    const raw = await api<{ items: Array<{ eventId: string; offset: string; status: string; recordId: string }> }>(
      sys.urls['session-service'],
      `/api/v1/sessions/${cdr.session_id}/frames?limit=100`,
      sys.keys.finance,
    );
    expect(raw.items.map((f) => [f.eventId, f.offset, f.status, f.recordId])).toEqual(
      positions.items.map((p) => [p.eventId, p.offset, 'found', p.eventId]),
    );
    await page.locator('#frames').scrollIntoViewIfNeeded();
    await accessible(page, 'cdr');
    await shot(page, 'cdr');
    // the tariff version link leads to that version
    await page.getByTestId('tariff-version-link').click();
    await page.getByTestId('versions-table').waitFor();
    await page.close();
  }, 120_000);

  it('finance: a card session’s payment from hold to capture, its journal, the accounts and the ledger', async () => {
    const card = seeded.accounts.find((a) => a.kind === 'card')!;
    const cdrs = (
      await api<{
        items: Array<{ id: string; session_id: string; cdr_token: { uid: string }; total_cost: { incl_vat: string } }>;
      }>(sys.urls['tariff-service'], '/api/v1/cdrs?limit=500', sys.keys.finance)
    ).items.filter((c) => c.cdr_token.uid === card.token);
    expect(cdrs.length).toBeGreaterThan(0);
    const cdr = cdrs[0];
    // the PSP answers and its webhooks arrive after the CDR: wait for the capture
    await waitFor(
      async () => {
        const r = await fetch(`${sys.urls['payment-service']}/api/v1/sessions/${cdr.session_id}/payment`, {
          headers: { authorization: `Bearer ${sys.keys.finance}` },
        });
        return r.status === 200 && ((await r.json()) as { status: string }).status === 'captured';
      },
      { what: 'the card session captured', timeoutMs: 60_000 },
    );
    const page = await signedIn(sys.keys.finance);
    await page.goto(`${consoleUrl}/cdrs/${cdr.id}`);
    await expect(page.getByTestId('payment-status').textContent()).resolves.toBe('captured');
    await page.getByTestId('payment-link').click();
    const steps = page.getByTestId('payment-timeline').locator('li');
    await page.getByTestId('journal-table').locator(DATA_ROWS).first().waitFor();
    const kinds = await steps.evaluateAll((els) => els.map((e) => e.getAttribute('data-kind')));
    expect(kinds).toEqual(['hold_requested', 'hold_authorized', 'cdr', 'capture', 'release']);
    // captured exactly the CDR's total incl. VAT
    await expect(steps.nth(3).textContent()).resolves.toContain(`${cdr.total_cost.incl_vat} EUR`);
    await expect(page.getByTestId('journal-balanced').textContent()).resolves.toContain('balanced');
    await accessible(page, 'payment');
    await shot(page, 'payment');
    // the accounts: each way to pay, standing; the card account's balances
    await page.getByRole('link', { name: 'Accounts', exact: true }).click();
    const accounts = page.getByTestId('accounts-table').locator('tbody tr');
    await waitFor(async () => (await accounts.count()) === seeded.accounts.length, { what: 'the accounts' });
    expect((await accounts.allTextContents()).join('\n')).toMatch(/card[\s\S]*wallet[\s\S]*invoice/);
    await accessible(page, 'accounts');
    await shot(page, 'accounts');
    await page.getByRole('link', { name: card.accountId, exact: true }).click();
    await expect(page.getByTestId('account-method').textContent()).resolves.toContain('card');
    await expect(page.getByTestId('account-standing').textContent()).resolves.toContain('can pay');
    await page.getByTestId('account-balances-table').locator(DATA_ROWS).first().waitFor();
    expect(await page.getByTestId('account-balances-table').textContent()).toContain(
      `customer_receivable:EUR:${card.accountId}`,
    );
    await accessible(page, 'account');
    await shot(page, 'account');
    // its journal in the ledger: every transfer of the account, the session's among them
    await page.getByRole('link', { name: /Its journal in the ledger/ }).click();
    const transfers = page.getByTestId('ledger-table').locator('tbody tr');
    await transfers.first().waitFor();
    const entries = await api<{ items: Array<{ sessionId: string | null }> }>(
      sys.urls['payment-service'],
      `/api/v1/ledger/entries?billingAccountId=${card.accountId}&limit=50`,
      sys.keys.finance,
    );
    await waitFor(async () => (await transfers.count()) === entries.items.length, { what: 'the journal page' });
    await page.getByTestId('ledger-balances-table').locator(DATA_ROWS).first().waitFor();
    await accessible(page, 'ledger');
    await shot(page, 'ledger');
    await page.close();
  }, 120_000);

  it('finance: opens a wallet account (the service’s field error first), tops it up, sees the balance and the ledger move; a statement’s month error', async () => {
    const page = await signedIn(sys.keys.finance);
    await page.getByRole('link', { name: 'Accounts', exact: true }).click();
    await page.getByRole('button', { name: 'Open an account…' }).click();
    const form = page.getByRole('form', { name: 'Open a billing account' });
    // an id that is open already: the service's 409 at the account id field
    const wallet = seeded.accounts.find((a) => a.kind === 'wallet')!;
    await form.getByLabel('Account id').fill(wallet.accountId);
    await form.getByRole('button', { name: 'Open account' }).click();
    await expect(page.getByTestId('open-account-id-error').textContent()).resolves.toContain('ACCOUNT_EXISTS');
    await expect(form.getByLabel('Account id').getAttribute('aria-invalid')).resolves.toBe('true');
    await accessible(page, 'account-open');
    await shot(page, 'account-open');
    const accountId = `console-wallet-${Date.now()}`;
    await form.getByLabel('Account id').fill(accountId);
    await form.getByLabel('prepaid wallet').check();
    await form.getByRole('button', { name: 'Open account' }).click();
    await page.getByRole('heading', { name: `Billing account ${accountId}` }).waitFor();
    await expect(page.getByTestId('account-method').textContent()).resolves.toContain('wallet');
    await waitFor(async () => (await page.getByTestId('wallet-balance').textContent()) === '0.00 EUR', {
      what: 'an empty wallet',
    });
    const opened = await api<{ method: { kind: string }; currency: string; openedBy: string }>(
      sys.urls['payment-service'],
      `/api/v1/accounts/${accountId}`,
      sys.keys.finance,
    );
    expect([opened.method.kind, opened.currency, opened.openedBy]).toEqual([
      'wallet',
      'EUR',
      'api-key:console-finance',
    ]);
    // a top-up of nothing: the service's problem at the amount
    const topUp = page.getByRole('form', { name: 'Top up the wallet' });
    await topUp.getByLabel('Amount (EUR)').fill('0');
    await topUp.getByRole('button', { name: 'Top up' }).click();
    await expect(page.getByTestId('topup-amount-error').textContent()).resolves.toContain('PAYMENT_INVALID_AMOUNT');
    await expect(topUp.getByLabel('Amount (EUR)').getAttribute('aria-invalid')).resolves.toBe('true');
    await topUp.getByLabel('Amount (EUR)').fill('25.50');
    await topUp.getByRole('button', { name: 'Top up' }).click();
    await page.getByTestId('topup-done').waitFor();
    await waitFor(async () => (await page.getByTestId('wallet-balance').textContent()) === '25.50 EUR', {
      what: 'the wallet balance after the top-up',
    });
    const balances = await api<{ balances: Array<{ chart: string; postedMinor: string }> }>(
      sys.urls['payment-service'],
      `/api/v1/accounts/${accountId}/balances`,
      sys.keys.finance,
    );
    expect(balances.balances.filter((b) => b.chart === 'wallet_liability').map((b) => b.postedMinor)).toEqual([
      '-2550',
    ]);
    await page.getByTestId('account-balances-table').locator(DATA_ROWS).first().waitFor();
    await accessible(page, 'wallet');
    await shot(page, 'wallet');
    // the ledger moved: the top-up's transfer in the account's journal, balanced
    await page.getByRole('link', { name: /Its journal in the ledger/ }).click();
    const transfers = page.getByTestId('ledger-table').locator('tbody tr');
    await transfers.filter({ hasText: 'wallet_top_up' }).waitFor();
    expect(await transfers.count()).toBe(1);
    const moved = (await transfers.first().textContent()) ?? '';
    expect(moved).toContain('wallet_top_up');
    expect(moved).toContain(`wallet_liability:EUR:${accountId}`);
    expect(moved).toContain('-25.50');
    // an invoice account: a statement of a month with no CDR is refused at the month
    const invoice = seeded.accounts.find((a) => a.kind === 'invoice')!;
    await page.goto(`${consoleUrl}/accounts/${invoice.accountId}`);
    const issue = page.getByRole('form', { name: 'Issue a statement' });
    await issue.getByLabel('Month').fill('2020-01');
    await issue.getByRole('button', { name: 'Issue statement' }).click();
    await expect(page.getByTestId('statement-month-error').textContent()).resolves.toContain('NO_STATEMENT');
    // an operator sees the accounts but none of the writes
    const operator = await signedIn(sys.keys.operator);
    await operator.goto(`${consoleUrl}/accounts/${accountId}`);
    await operator.getByTestId('wallet-balance').waitFor();
    await expect(operator.getByRole('form', { name: 'Top up the wallet' }).count()).resolves.toBe(0);
    await expect(operator.getByRole('button', { name: /Change how it pays/ }).count()).resolves.toBe(0);
    await operator.goto(`${consoleUrl}/accounts`);
    await operator.getByTestId('accounts-table').locator(DATA_ROWS).first().waitFor();
    await expect(operator.getByRole('button', { name: 'Open an account…' }).count()).resolves.toBe(0);
    await operator.close();
    await page.close();
  }, 120_000);

  it('finance: runs the reconciliation; the queue is empty and says what to do; a settlement line edited by hand is a break resolved with a note; the breaks CSV', async () => {
    type Break = {
      breakId: string;
      reason: string;
      status: string;
      paymentRef: string | null;
      sessionId: string | null;
    };
    const breaks = (q: string) =>
      api<{ items: Break[] }>(sys.urls['reporting-service'], `/api/v1/reconciliation/breaks?${q}`, sys.keys.finance);
    const page = await signedIn(sys.keys.finance);
    await page.getByRole('link', { name: 'Reconciliation', exact: true }).click();
    // 1: the seeded payments, no settlement report yet: the run finds what the API then lists
    await page.getByRole('button', { name: 'Run reconciliation' }).click();
    const result = page.getByTestId('run-result');
    await result.waitFor();
    // the seeded sessions are younger than the grace period before the newest payment event: no break yet
    expect(await result.textContent()).toMatch(/^As of .+: 0 breaks, 0 new\.$/);
    expect((await breaks('status=all&limit=500')).items).toEqual([]);
    const rows = page.getByTestId('breaks-table').locator('tbody tr');
    await expect(page.getByTestId('breaks-empty').textContent()).resolves.toContain(
      'Run reconciliation after a settlement report is imported',
    );
    await accessible(page, 'reconciliation-empty');
    // the run's result is kept when leaving the screen
    const firstRun = await result.textContent();
    await page.getByRole('link', { name: 'Ledger', exact: true }).click();
    await page.getByTestId('ledger-table').waitFor();
    await page.getByRole('link', { name: 'Reconciliation', exact: true }).click();
    await expect(result.textContent()).resolves.toBe(firstRun);
    await page.getByTestId('settlements-table').getByText('No settlement report imported yet').waitFor();

    // 2: the PSP's settlement report with the gross of one card capture raised by 0.10 by hand, imported
    const card = seeded.accounts.find((a) => a.kind === 'card')!;
    const cardCdr = (
      await api<{ items: Array<{ session_id: string; cdr_token: { uid: string } }> }>(
        sys.urls['tariff-service'],
        '/api/v1/cdrs?limit=500',
        sys.keys.finance,
      )
    ).items.find((c) => c.cdr_token.uid === card.token)!;
    let paymentRef = '';
    await waitFor(
      async () => {
        const r = await fetch(`${sys.urls['payment-service']}/api/v1/sessions/${cardCdr.session_id}/payment`, {
          headers: { authorization: `Bearer ${sys.keys.finance}` },
        });
        const p = (await r.json()) as {
          status?: string;
          hold?: { paymentRef: string | null } | null;
          captures?: Array<{ intentId: string }>;
        };
        paymentRef = p.hold?.paymentRef ?? p.captures?.[0]?.intentId ?? '';
        return r.status === 200 && p.status === 'captured' && !!paymentRef;
      },
      { what: 'the card session captured', timeoutMs: 60_000 },
    );
    const reportEnd = Math.floor(Date.now() / 1000) + 3600;
    const original = (sys.psp.psp as unknown as { settlementReport(s: number, e: number): string }).settlementReport(
      reportStart,
      reportEnd,
    );
    const lines = original.trimEnd().split('\r\n');
    const header = lines[0].split(',');
    const col = (name: string) => header.indexOf(name);
    const at = lines.findIndex((l) => l.split(',')[col('payment_intent_id')] === paymentRef);
    expect(at).toBeGreaterThan(0);
    const cells = lines[at].split(',');
    for (const c of ['gross', 'net']) cells[col(c)] = (Number(cells[col(c)]) + 0.1).toFixed(2);
    lines[at] = cells.join(',');
    const intervalEnd = new Date(reportEnd * 1000).toISOString();
    const imported = await fetch(`${sys.urls['payment-service']}/api/v1/settlements`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sys.keys.finance}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        reportId: `frr_console_${reportStart}`,
        intervalStart: new Date(reportStart * 1000).toISOString(),
        intervalEnd,
        csv: `${lines.join('\r\n')}\r\n`,
      }),
    });
    expect(imported.status).toBe(201);
    // the reporting service reads the import from payment.events: the run is as of the report's end once it has
    await waitFor(
      async () => {
        const r = await fetch(`${sys.urls['reporting-service']}/api/v1/reconciliation/runs`, {
          method: 'POST',
          headers: { authorization: `Bearer ${sys.keys.finance}` },
        });
        return r.status === 201 && ((await r.json()) as { asOf: string | null }).asOf === intervalEnd;
      },
      { what: 'the settlement report in the reporting service', timeoutMs: 60_000 },
    );
    // …and over a reload (the tab's session storage); the imported report listed
    await page.reload();
    await expect(result.textContent()).resolves.toBe(firstRun);
    await page
      .getByTestId('settlements-table')
      .locator('tbody tr', { hasText: `frr_console_${reportStart}` })
      .waitFor();
    const open = (await breaks('status=open&limit=500')).items;
    const edited = open.find((b) => b.reason === 'AMOUNT_MISMATCH' && b.paymentRef === paymentRef);
    expect(edited).toBeDefined();
    await page.getByRole('button', { name: 'Run reconciliation' }).click();
    await waitFor(async () => ((await result.textContent()) ?? '').includes(`${open.length} break`), {
      what: 'the run with the report',
    });
    await waitFor(async () => (await rows.count()) === open.length, { what: 'the open breaks' });
    const row = rows.filter({ hasText: paymentRef });
    expect(await row.textContent()).toContain('AMOUNT_MISMATCH');
    // the detection-period filter (event time: the run's as-of, the report's end): none detected from tomorrow on;
    // cleared, the same breaks again
    const filters = page.getByRole('form', { name: 'Break filters' });
    await filters.getByLabel('Detected from (UTC)').fill(new Date(Date.now() + 86_400_000).toISOString().slice(0, 16));
    await filters.getByRole('button', { name: 'Apply' }).click();
    await expect(page.getByTestId('breaks-empty').textContent()).resolves.toContain('matches these filters');
    await filters.getByRole('button', { name: 'Clear' }).click();
    await waitFor(async () => (await rows.count()) === open.length, { what: 'the open breaks, unfiltered' });
    // from the break to its session's payment and back
    await row.getByTestId('break-payment-link').click();
    await expect(page.getByTestId('payment-status').textContent()).resolves.toBe('captured');
    await page.goBack();
    await rows.first().waitFor();

    // 3: resolve with no note: the service's field error beside the note; then with one
    await row.getByRole('button', { name: 'Resolve…' }).click();
    await row.getByRole('button', { name: 'Resolve', exact: true }).click();
    await expect(row.getByTestId('note-error').textContent()).resolves.toContain('note');
    await expect(row.getByLabel('Note').getAttribute('aria-invalid')).resolves.toBe('true');
    await accessible(page, 'reconciliation');
    await shot(page, 'reconciliation');
    const note = 'settlement line edited by hand in the test: the PSP booked the CDR total';
    await row.getByLabel('Note').fill(note);
    await row.getByRole('button', { name: 'Resolve', exact: true }).click();
    await row.waitFor({ state: 'detached' });
    const resolved = (await breaks('status=resolved&limit=500')).items as Array<
      Break & { resolution: { note: string; resolvedBy: string } }
    >;
    expect(resolved.map((b) => [b.breakId, b.resolution.note, b.resolution.resolvedBy])).toEqual([
      [edited!.breakId, note, 'api-key:console-finance'],
    ]);
    // the resolved ones, filtered in the browser
    await page.getByRole('combobox', { name: 'Status' }).selectOption('resolved');
    await page.getByRole('button', { name: 'Apply' }).click();
    await waitFor(async () => ((await rows.first().textContent()) ?? '').includes(note), { what: 'the resolution' });

    // 4: every break (status all) as the service's CSV
    await page.getByRole('combobox', { name: 'Status' }).selectOption('all');
    await page.getByRole('button', { name: 'Apply' }).click();
    const all = (await breaks('status=all&limit=500')).items;
    const [file] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download CSV' }).click(),
    ]);
    const text = readFileSync(await file.path(), 'utf8');
    const csvLines = text.trim().split(/\r?\n/);
    expect(csvLines.length - 1).toBe(all.length);
    for (const b of all) expect(text).toContain(b.breakId);
    await page.getByTestId('breaks-csv-done').waitFor();
    await page.close();
  }, 180_000);

  it('finance: downloads the payments report from the reports screen; its captures are the API’s', async () => {
    const page = await signedIn(sys.keys.finance);
    await page.goto(`${consoleUrl}/reports`);
    const section = page.locator('#export-payments');
    const [file] = await Promise.all([
      page.waitForEvent('download'),
      section.getByRole('button', { name: 'Download CSV' }).click(),
    ]);
    const csv = csvRows(readFileSync(await file.path(), 'utf8'));
    const json = await api<{ days: Array<{ day: string; currency: string; captures: number; captured: string }> }>(
      sys.urls['reporting-service'],
      `/api/v1/reports/payments?from=${dayOffset(-30)}&to=${dayOffset(1)}`,
      sys.keys.finance,
    );
    expect(json.days.length).toBeGreaterThan(0);
    expect(csv.rows.map((r) => [r.day, r.currency, Number(r.captures), r.captured])).toEqual(
      json.days.map((d) => [d.day, d.currency, d.captures, d.captured]),
    );
    await page.getByTestId('export-payments-done').waitFor();
    await page.close();
  }, 60_000);

  it('operator: the utilisation and uptime downloads hold every station, page after page, as the service writes them', async () => {
    const page = await signedIn(sys.keys.operator);
    await page.goto(`${consoleUrl}/reports`);
    const stations = await api<{ items: Array<{ stationId: string }> }>(
      sys.urls['reporting-service'],
      '/api/v1/stations?limit=500',
      sys.keys.operator,
    );
    expect(stations.items.length).toBeGreaterThan(1);
    const serviceCsv = async (p: string) => {
      const r = await fetch(`${sys.urls['reporting-service']}${p}`, {
        headers: { authorization: `Bearer ${sys.keys.operator}` },
      });
      expect(r.status).toBe(200);
      return r.text();
    };
    const util = `from=${dayOffset(-7)}&to=${dayOffset(1)}`;
    const month = dayOffset(0).slice(0, 7);
    for (const [id, own] of [
      ['export-utilisation', `/api/v1/reports/utilisation?${util}&format=csv`],
      ['export-uptime', `/api/v1/reports/uptime?period=${month}&format=csv`],
    ] as const) {
      const section = page.locator(`#${id}`);
      // one station a request: the console follows the cursor through every station
      await section.getByLabel('Stations per request').fill('1');
      const [file] = await Promise.all([
        page.waitForEvent('download'),
        section.getByRole('button', { name: 'Download CSV' }).click(),
      ]);
      const text = readFileSync(await file.path(), 'utf8');
      const rows = csvRows(text).rows;
      expect(new Set(rows.map((r) => r.station_id))).toEqual(new Set(stations.items.map((s) => s.stationId)));
      // byte for byte the service's own CSV of all of them in one page (fewer than 100 stations here)
      expect(text).toBe(await serviceCsv(own));
      await expect(page.getByTestId(`${id}-done`).textContent()).resolves.toBe(`${rows.length} rows downloaded`);
    }
    await accessible(page, 'reports-operator');
    await page.close();
  }, 90_000);

  it('finance: publishing a tariff with a wrong field shows the service’s error next to that field', async () => {
    const page = await signedIn(sys.keys.finance);
    await page.goto(`${consoleUrl}/tariffs/${seeded.tariffId}`);
    const editor = page.getByLabel('Tariff (OCPI 2.2.1 JSON)');
    await editor.waitFor();
    const text = await editor.inputValue();
    const wrong = text.replace('"price": 0.35', '"price": -0.35');
    expect(wrong).not.toBe(text);
    await editor.fill(wrong);
    await page.getByRole('button', { name: 'Publish' }).click();
    const fieldError = page.getByTestId('field-error');
    await fieldError.waitFor();
    // the line of the wrong price in the editor's text
    const line = wrong.split('\n').findIndex((l) => l.includes('"price": -0.35')) + 1;
    await expect(fieldError.getAttribute('data-line')).resolves.toBe(String(line));
    await expect(fieldError.textContent()).resolves.toMatch(/price_components\[\d\]\.price.*negative/);
    await expect(editor.getAttribute('aria-invalid')).resolves.toBe('true');
    // nothing was published
    const versions = await api<{ items: unknown[] }>(
      sys.urls['tariff-service'],
      `/api/v1/tariffs/${seeded.tariffId}/versions`,
      sys.keys.finance,
    );
    expect(versions.items).toHaveLength(1);
    await accessible(page, 'tariff-editor');
    await shot(page, 'tariff-editor');
    // what-if of the draft (fixed) over the sessions, with its progress
    await editor.fill(text.replace('"price": 0.35', '"price": 0.3'));
    await fieldError.waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Preview' }).click();
    const progress = page.getByTestId('whatif-progress');
    await waitFor(async () => (await progress.getAttribute('value')) === (await progress.getAttribute('max')), {
      what: 'every day of the range priced',
    });
    await expect(page.getByTestId('whatif-totals').locator('caption').textContent()).resolves.toContain(
      `${seeded.sessionsCompleted} sessions re-priced`,
    );
    await shot(page, 'tariff-what-if');
    await page.goto(`${consoleUrl}/tariffs`);
    await page.getByTestId('tariffs-table').locator(DATA_ROWS).first().waitFor();
    await accessible(page, 'tariffs');
    await page.goto(`${consoleUrl}/assignments`);
    await page.getByTestId('assignments-table').locator(DATA_ROWS).first().waitFor();
    await accessible(page, 'assignments');
    await shot(page, 'assignments');
    await page.close();
  }, 120_000);

  it('operator: acknowledges the open alarm of a faulted connector', async () => {
    const page = await signedIn(sys.keys.operator);
    // the role decides the screens: an operator sees the accounts, not the ledger nor the revenue report
    await page.getByRole('link', { name: 'Accounts', exact: true }).waitFor();
    await expect(page.getByRole('link', { name: 'Ledger', exact: true }).count()).resolves.toBe(0);
    await expect(page.getByRole('link', { name: 'Reconciliation', exact: true }).count()).resolves.toBe(0);
    // the role decides the buttons: an operator cannot publish tariffs
    await page.goto(`${consoleUrl}/tariffs/${seeded.tariffId}`);
    await page.getByTestId('versions-table').waitFor();
    await expect(page.getByRole('button', { name: 'Publish' }).count()).resolves.toBe(0);
    await page.goto(`${consoleUrl}/stations`);
    const alarm = page.getByTestId('alarms-table').locator('tbody tr', { hasText: 'GroundFailure' });
    await alarm.waitFor();
    await page.getByTestId('stations-table').locator('tbody tr', { hasText: seeded.faultyStationId }).waitFor();
    await accessible(page, 'stations');
    await shot(page, 'stations');
    await alarm.getByRole('button', { name: /Acknowledge/ }).click();
    await alarm.waitFor({ state: 'detached' });
    const closed = await api<{ items: Array<{ status: string; acknowledgedBy: { keyName: string; role: string } }> }>(
      sys.urls['reporting-service'],
      `/api/v1/alarms?status=all&stationId=${seeded.faultyStationId}`,
      sys.keys.operator,
    );
    expect(closed.items.map((a) => [a.status, a.acknowledgedBy?.keyName, a.acknowledgedBy?.role])).toEqual([
      ['closed', 'console-operator', 'operator'],
    ]);
    await page.close();
  }, 120_000);

  it('operator: sends a reset to a station and sees the station accept it', async () => {
    const page = await signedIn(sys.keys.operator);
    const stationId = seeded.stationIds[0];
    await page.goto(`${consoleUrl}/stations/${stationId}`);
    await page.getByRole('heading', { name: 'Status' }).waitFor();
    await page.getByLabel('Reset', { exact: true }).check();
    await page.getByRole('button', { name: 'Send' }).click();
    const row = page.getByTestId('commands-table').locator('tbody tr').first();
    await waitFor(async () => ((await row.textContent()) ?? '').includes('accepted'), {
      what: 'the reset accepted',
      timeoutMs: 30_000,
    });
    expect(await row.textContent()).toContain('Reset');
    await accessible(page, 'station');
    await shot(page, 'station');
    await page.close();
  }, 120_000);

  it('works at tablet width: sessions and the dashboard in one column', async () => {
    const page = await signedIn(sys.keys.admin, 820);
    await page.goto(`${consoleUrl}/sessions`);
    await page.getByTestId('sessions-table').locator(DATA_ROWS).first().waitFor();
    await accessible(page, 'sessions');
    await shot(page, 'sessions-tablet');
    // nothing wider than the viewport but the tables' own scroll boxes
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await page.close();
  }, 60_000);

  it('every screen at 1280 px and at a tablet’s 820 px: nothing overflows the page, no serious axe-core violation', async () => {
    const cdr = (
      await api<{ items: Array<{ id: string }> }>(sys.urls['tariff-service'], '/api/v1/cdrs?limit=1', sys.keys.admin)
    ).items[0];
    const wallet = seeded.accounts.find((a) => a.kind === 'wallet')!;
    const screens = [
      '/',
      '/stations',
      `/stations/${seeded.stationIds[0]}`,
      '/sessions',
      '/cdrs',
      `/cdrs/${cdr.id}`,
      '/tariffs',
      `/tariffs/${seeded.tariffId}`,
      '/assignments',
      '/accounts',
      `/accounts/${wallet.accountId}`,
      '/ledger',
      '/reports',
      '/reconciliation',
    ];
    const wide: string[] = [];
    for (const width of [1280, 820]) {
      const page = await signedIn(sys.keys.admin, width);
      for (const s of screens) {
        await page.goto(`${consoleUrl}${s}`);
        await page.locator('h1').first().waitFor();
        // every request of the screen answered
        await waitFor(async () => (await page.locator('.spinner').count()) === 0, {
          what: `${s} loaded`,
          timeoutMs: 30_000,
        });
        const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
        if (overflow > 0) wide.push(`${s} at ${width} px: ${overflow} px too wide`);
        await accessible(page, `${s} at ${width} px`);
      }
      await page.close();
    }
    expect(wide).toEqual([]);
  }, 600_000);
});
