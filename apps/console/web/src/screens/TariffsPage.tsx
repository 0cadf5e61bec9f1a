import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, getRouteApi, useNavigate } from '@tanstack/react-router';
import { ApiError, apiGet, apiPost, apiPut, type RequestBody } from '../api/client';
import type { Assignment, Page, TariffVersion, WhatIfResult } from '../api/views';
import { useAuth } from '../auth/auth';
import { Json, Loading, NotAllowed, ProblemView, Section } from '../components/common';
import { DataTable, columnsFor, useCursorPages } from '../components/DataTable';
import { dateTime, sumDecimals } from '../format';
import { lineOfField } from '../json-locate';
import { toInstant } from './filters';

const route = getRouteApi('/tariffs/$tariffId');

const t = columnsFor<TariffVersion>();
const tariffColumns = t.columns([
  t.accessor('tariffId', {
    header: 'Tariff',
    cell: (c) => (
      <Link to="/tariffs/$tariffId" params={{ tariffId: c.getValue() }}>
        {c.getValue()}
      </Link>
    ),
  }),
  t.accessor('version', { header: 'Latest version' }),
  t.accessor((r) => r.tariff.currency, { id: 'currency', header: 'Currency' }),
  t.accessor((r) => r.tariff.elements.length, { id: 'elements', header: 'Elements' }),
  t.accessor(
    (r) => r.tariff.elements.flatMap((e) => e.price_components.map((p) => `${p.type} ${p.price}`)).join(', '),
    {
      id: 'components',
      header: 'Price components',
    },
  ),
  t.accessor('effectiveFrom', { header: 'Effective from', cell: (c) => dateTime(c.getValue()) }),
  t.accessor((r) => r.publishedBy?.keyName ?? '', { id: 'by', header: 'Published by' }),
]);

const NEW_TARIFF = {
  country_code: 'NL',
  party_id: 'CSM',
  id: 'NEW-TARIFF',
  currency: 'EUR',
  type: 'REGULAR',
  elements: [{ price_components: [{ type: 'ENERGY', price: 0.35, vat: 21, step_size: 1 }] }],
};

export function TariffsPage() {
  const auth = useAuth();
  const pages = useCursorPages();
  const q = useQuery({
    queryKey: ['tariffs', 'list', pages.cursor],
    queryFn: ({ signal }) =>
      apiGet<Page<TariffVersion>, 'tariffs', '/api/v1/tariffs'>('tariffs', '/api/v1/tariffs', {
        query: { limit: '50', cursor: pages.cursor },
        signal,
      }),
    enabled: auth.can('viewTariffs'),
  });
  if (!auth.can('viewTariffs')) return <NotAllowed what="Tariffs" />;
  return (
    <>
      <h1>Tariffs</h1>
      <Section title="Tariff catalogue" id="tariffs">
        <ProblemView error={q.error} />
        <DataTable
          caption="Every tariff with its latest version, by id"
          columns={tariffColumns}
          rows={q.data?.items}
          rowId={(r) => r.tariffId}
          pages={pages}
          nextCursor={q.data?.nextCursor}
          loading={q.isLoading}
          empty="No tariff yet: publish one below (finance role), then assign it to a site, station or as the default."
          testId="tariffs-table"
        />
      </Section>
      {auth.can('editTariffs') && <TariffEditor initial={NEW_TARIFF} title="Publish a new tariff" />}
    </>
  );
}

export function TariffPage() {
  const { tariffId } = route.useParams();
  const { version } = route.useSearch();
  const auth = useAuth();
  const versions = useQuery({
    queryKey: ['tariffs', 'versions', tariffId],
    queryFn: ({ signal }) =>
      apiGet<Page<TariffVersion>, 'tariffs', '/api/v1/tariffs/{tariffId}/versions'>(
        'tariffs',
        '/api/v1/tariffs/{tariffId}/versions',
        {
          path: { tariffId },
          signal,
        },
      ),
    enabled: auth.can('viewTariffs'),
  });
  if (!auth.can('viewTariffs')) return <NotAllowed what="Tariffs" />;
  const all = versions.data?.items ?? [];
  const latest = all[all.length - 1];
  const shown = (version !== undefined ? all.find((v) => v.version === version) : undefined) ?? latest;
  return (
    <>
      <h1>
        Tariff <span className="mono">{tariffId}</span>
      </h1>
      <ProblemView error={versions.error} />
      {versions.isLoading && <Loading what="the versions" />}
      {all.length > 0 && (
        <Section title="Versions" id="versions">
          <table data-testid="versions-table">
            <caption>Every version, oldest first (kept forever)</caption>
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">Effective from</th>
                <th scope="col">Published</th>
                <th scope="col">By</th>
                <th scope="col">Content hash</th>
              </tr>
            </thead>
            <tbody>
              {all.map((v) => (
                <tr
                  key={v.version}
                  aria-current={v.version === shown?.version ? 'true' : undefined}
                  className={v.version === shown?.version ? 'current' : undefined}
                >
                  <td>
                    <Link to="/tariffs/$tariffId" params={{ tariffId }} search={{ version: v.version }}>
                      v{v.version}
                    </Link>
                  </td>
                  <td>{dateTime(v.effectiveFrom)}</td>
                  <td>{dateTime(v.publishedAt)}</td>
                  <td>{v.publishedBy ? `${v.publishedBy.keyName} (${v.publishedBy.role ?? '?'})` : '—'}</td>
                  <td className="mono small">{v.contentHash.slice(0, 16)}…</td>
                </tr>
              ))}
            </tbody>
          </table>
          {shown && (
            <details open={version !== undefined}>
              <summary>Version {shown.version} as OCPI JSON</summary>
              <Json value={shown.tariff} label={`tariff version ${shown.version}`} />
            </details>
          )}
        </Section>
      )}
      {latest && auth.can('editTariffs') && (
        <TariffEditor key={latest.version} initial={latest.tariff} title="Edit and publish a new version" />
      )}
    </>
  );
}

/** The JSON editor: the API's field-level problem is shown next to the field's line, and in a summary below. */
function TariffEditor({ initial, title }: { initial: unknown; title: string }) {
  const qc = useQueryClient();
  const navigate = useNavigate();
  const [text, setText] = useState(() => JSON.stringify(initial, null, 2));
  const [effectiveFrom, setEffectiveFrom] = useState('');
  const [scrollTop, setScrollTop] = useState(0);
  const [syntax, setSyntax] = useState<string>();
  const area = useRef<HTMLTextAreaElement>(null);
  const publish = useMutation({
    mutationFn: (body: { id: string } & Record<string, unknown>) =>
      apiPut<TariffVersion, 'tariffs', '/api/v1/tariffs/{tariffId}'>('tariffs', '/api/v1/tariffs/{tariffId}', {
        path: { tariffId: body.id },
        query: { effective_from: toInstant(effectiveFrom) },
        // the editor's text as typed: the service validates it and names the field at fault
        body: body as unknown as RequestBody<'tariffs', 'put', '/api/v1/tariffs/{tariffId}'>,
      }),
    onSuccess: (v) => {
      qc.invalidateQueries({ queryKey: ['tariffs'] });
      navigate({ to: '/tariffs/$tariffId', params: { tariffId: v.tariffId }, search: { version: v.version } });
    },
  });
  const parsed = useMemo(() => {
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  }, [text]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setSyntax(undefined);
    if (!parsed || typeof parsed.id !== 'string') {
      setSyntax(parsed ? 'the tariff needs an "id" (string)' : 'the text is not JSON');
      return;
    }
    publish.mutate(parsed as { id: string });
  };
  const problem = publish.error instanceof ApiError ? publish.error.problem : undefined;
  const field = problem?.field && problem.field.startsWith('body') ? problem.field : undefined;
  const line = field ? lineOfField(text, field) : undefined;
  const LINE = 20; // px, the textarea's line height (styles.css .editor textarea)
  // a refused publish: bring the field's line into view and put the caret on it
  useEffect(() => {
    const el = area.current;
    if (!el || line === undefined) return;
    el.scrollTop = Math.max(0, (line - 4) * LINE);
    setScrollTop(el.scrollTop);
    const at =
      el.value
        .split('\n')
        .slice(0, line - 1)
        .join('\n').length + (line > 1 ? 1 : 0);
    el.focus();
    el.setSelectionRange(at, at);
  }, [line, publish.error]);
  return (
    <>
      <Section title={title} id="editor">
        <form onSubmit={submit} className="editor-form">
          <div className="editor">
            <label htmlFor="tariff-json">Tariff (OCPI 2.2.1 JSON)</label>
            <div className="editor-body">
              <textarea
                id="tariff-json"
                ref={area}
                value={text}
                spellCheck={false}
                rows={22}
                onChange={(e) => {
                  setText(e.target.value);
                  // the problem was about the text as it was: an edit clears it
                  if (publish.error) publish.reset();
                }}
                onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
                aria-invalid={!!field || !!syntax || undefined}
                aria-describedby={field ? 'field-error' : syntax ? 'syntax-error' : undefined}
              />
              <div className="editor-gutter" aria-hidden={!field}>
                {field && line !== undefined && (
                  <p
                    id="field-error"
                    className="field-error"
                    role="alert"
                    data-testid="field-error"
                    data-line={line}
                    style={{ top: `${8 + (line - 1) * LINE - scrollTop}px` }}
                  >
                    <span aria-hidden="true">◀ </span>
                    line {line}: <code>{field.replace(/^body\/?/, '')}</code> — {problem?.detail}
                  </p>
                )}
              </div>
            </div>
          </div>
          <label>
            Effective from (UTC, empty: now){' '}
            <input type="datetime-local" value={effectiveFrom} onChange={(e) => setEffectiveFrom(e.target.value)} />
          </label>
          {syntax && (
            <p id="syntax-error" role="alert" className="field-error static">
              {syntax}
            </p>
          )}
          <div className="row">
            <button type="submit" className="primary" disabled={publish.isPending}>
              {publish.isPending ? 'Publishing…' : 'Publish'}
            </button>
          </div>
          {publish.error ? <ProblemView error={publish.error} title="Not published" /> : null}
        </form>
      </Section>
      <WhatIf draft={parsed} />
    </>
  );
}

/** split [from, to) into days: one what-if request each, so the preview shows its progress and can be stopped */
export function daySlices(from: string, to: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let a = new Date(from).getTime();
  const end = new Date(to).getTime();
  while (a < end) {
    const b = Math.min(end, a + 86_400_000);
    out.push([new Date(a).toISOString(), new Date(b).toISOString()]);
    a = b;
  }
  return out;
}

function WhatIf({ draft }: { draft?: Record<string, unknown> }) {
  const auth = useAuth();
  const today = new Date();
  const iso = (d: Date) => d.toISOString().slice(0, 16);
  const [from, setFrom] = useState(iso(new Date(today.getTime() - 7 * 86_400_000)));
  const [to, setTo] = useState(iso(new Date(today.getTime() + 3600_000)));
  const [scope, setScope] = useState<'stationId' | 'siteId' | ''>('');
  const [scopeValue, setScopeValue] = useState('');
  const [progress, setProgress] = useState<{ done: number; total: number }>();
  const [result, setResult] = useState<WhatIfResult>();
  const [error, setError] = useState<unknown>();
  const abort = useRef<AbortController | undefined>(undefined);
  if (!auth.can('whatIf')) return null;
  const run = async (e: FormEvent) => {
    e.preventDefault();
    if (!draft) return setError(new ApiError({ status: 400, detail: 'the draft is not JSON', field: 'tariff' }));
    const slices = daySlices(toInstant(from)!, toInstant(to)!);
    const ac = new AbortController();
    abort.current = ac;
    setError(undefined);
    setResult(undefined);
    setProgress({ done: 0, total: slices.length });
    const acc: WhatIfResult = {
      currency: null,
      sessions: 0,
      items: [],
      totals: { billed: { excl_vat: '0' }, draft: { excl_vat: '0' }, difference: { excl_vat: '0' } },
    };
    try {
      for (const [i, [a, b]] of slices.entries()) {
        const r = await apiPost<WhatIfResult, 'tariffs', '/api/v1/what-if'>('tariffs', '/api/v1/what-if', {
          body: { tariff: draft, from: a, to: b, limit: 5000, ...(scope && scopeValue ? { [scope]: scopeValue } : {}) },
          signal: ac.signal,
        });
        acc.currency = acc.currency ?? r.currency;
        acc.sessions += r.sessions;
        acc.items.push(...r.items);
        for (const k of ['billed', 'draft', 'difference'] as const)
          acc.totals[k] = {
            excl_vat: sumDecimals([acc.totals[k].excl_vat, r.totals[k].excl_vat]),
            incl_vat: sumDecimals([acc.totals[k].incl_vat ?? '0', r.totals[k].incl_vat ?? '0']),
          };
        setProgress({ done: i + 1, total: slices.length });
        setResult({ ...acc, items: [...acc.items] });
      }
    } catch (err) {
      if ((err as Error).name !== 'AbortError') setError(err);
    } finally {
      abort.current = undefined;
    }
  };
  const running = !!abort.current;
  return (
    <Section title="What-if: the draft over past sessions" id="whatif">
      <form className="filters" onSubmit={run} aria-label="What-if range">
        <label>
          From (UTC) <input type="datetime-local" value={from} onChange={(e) => setFrom(e.target.value)} required />
        </label>
        <label>
          to <input type="datetime-local" value={to} onChange={(e) => setTo(e.target.value)} required />
        </label>
        <label>
          Only{' '}
          <select value={scope} onChange={(e) => setScope(e.target.value as 'stationId' | 'siteId' | '')}>
            <option value="">all sessions</option>
            <option value="stationId">station</option>
            <option value="siteId">site</option>
          </select>
        </label>
        {scope && (
          <label>
            {scope === 'stationId' ? 'Station' : 'Site'}{' '}
            <input value={scopeValue} onChange={(e) => setScopeValue(e.target.value)} required />
          </label>
        )}
        <button type="submit" className="primary" disabled={running}>
          Preview
        </button>
        {running && (
          <button type="button" onClick={() => abort.current?.abort()}>
            Stop
          </button>
        )}
      </form>
      {progress && (
        <p>
          <label>
            Priced {progress.done} of {progress.total} days{' '}
            <progress value={progress.done} max={progress.total} data-testid="whatif-progress" />
          </label>
        </p>
      )}
      <ProblemView error={error} title="No preview" />
      {result && (
        <>
          <table data-testid="whatif-totals">
            <caption>
              {result.sessions} sessions re-priced ({result.currency ?? '—'}); nothing is published or emitted
            </caption>
            <thead>
              <tr>
                <th scope="col" />
                <th scope="col">Excl. VAT</th>
                <th scope="col">Incl. VAT</th>
              </tr>
            </thead>
            <tbody>
              {(['billed', 'draft', 'difference'] as const).map((k) => (
                <tr key={k}>
                  <th scope="row">{k}</th>
                  <td className="num">{result.totals[k].excl_vat}</td>
                  <td className="num">{result.totals[k].incl_vat}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <details>
            <summary>Per session</summary>
            <table>
              <caption>Billed vs draft per session</caption>
              <thead>
                <tr>
                  <th scope="col">Session</th>
                  <th scope="col">Billed</th>
                  <th scope="col">Draft</th>
                  <th scope="col">Difference</th>
                </tr>
              </thead>
              <tbody>
                {result.items.map((i) => (
                  <tr key={i.sessionId}>
                    <td>
                      <Link to="/sessions/$sessionId" params={{ sessionId: i.sessionId }} className="mono">
                        {i.sessionId.slice(0, 8)}
                      </Link>
                    </td>
                    <td className="num">{i.billed.excl_vat}</td>
                    <td className="num">{i.draft.excl_vat}</td>
                    <td className="num">{i.difference.excl_vat}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
        </>
      )}
    </Section>
  );
}

const as = columnsFor<Assignment>();
const scopeText = (s: Assignment['scope']) =>
  `${s.kind}${Object.entries(s)
    .filter(([k]) => k !== 'kind')
    .map(([k, v]) => ` ${k}=${String(v)}`)
    .join('')}`;
const assignmentColumns = as.columns([
  as.accessor('sequence', { header: '#' }),
  as.accessor('tariffId', {
    header: 'Tariff',
    cell: (c) => (
      <Link to="/tariffs/$tariffId" params={{ tariffId: c.getValue() }}>
        {c.getValue()}
      </Link>
    ),
  }),
  as.accessor((r) => scopeText(r.scope), { id: 'scope', header: 'Scope' }),
  as.accessor('effectiveFrom', { header: 'Effective from', cell: (c) => dateTime(c.getValue()) }),
  as.accessor((r) => (r.removed ? 'withdrawn' : 'assigned'), { id: 'removed', header: 'State' }),
  as.accessor('setAt', { header: 'Set', cell: (c) => dateTime(c.getValue()) }),
  as.accessor((r) => r.setBy?.keyName ?? '', { id: 'by', header: 'Set by' }),
]);

const SCOPE_FIELDS: Record<string, string[]> = {
  default: [],
  site: ['siteId'],
  station: ['stationId'],
  evse: ['stationId', 'evseId'],
  connector: ['stationId', 'evseId', 'connectorId'],
  token_group: ['groupId'],
  account: ['accountId'],
};

export function AssignmentsPage() {
  const auth = useAuth();
  const qc = useQueryClient();
  const pages = useCursorPages();
  const q = useQuery({
    queryKey: ['tariffs', 'assignments', pages.cursor],
    queryFn: ({ signal }) =>
      apiGet<Page<Assignment>, 'tariffs', '/api/v1/tariff-assignments'>('tariffs', '/api/v1/tariff-assignments', {
        query: { limit: '50', cursor: pages.cursor },
        signal,
      }),
    enabled: auth.can('viewTariffs'),
  });
  const [tariffId, setTariffId] = useState('');
  const [kind, setKind] = useState('site');
  const [values, setValues] = useState<Record<string, string>>({});
  const [effectiveFrom, setEffectiveFrom] = useState('');
  const [removed, setRemoved] = useState(false);
  const add = useMutation({
    mutationFn: () => {
      const scope: Record<string, unknown> = { kind };
      for (const f of SCOPE_FIELDS[kind])
        if (values[f]) scope[f] = f.endsWith('Id') && /^(evseId|connectorId)$/.test(f) ? Number(values[f]) : values[f];
      return apiPost<Assignment, 'tariffs', '/api/v1/tariff-assignments'>('tariffs', '/api/v1/tariff-assignments', {
        body: {
          tariffId,
          scope: scope as never,
          effectiveFrom: toInstant(effectiveFrom),
          removed: removed || undefined,
        },
      });
    },
    onSuccess: () => qc.invalidateQueries({ queryKey: ['tariffs', 'assignments'] }),
  });
  if (!auth.can('viewTariffs')) return <NotAllowed what="Tariff assignments" />;
  const fieldError = add.error instanceof ApiError ? add.error.field : undefined;
  const errFor = (name: string) =>
    fieldError &&
    fieldError
      .replace(/^body\/?/, '')
      .replace(/\./g, '/')
      .endsWith(name)
      ? add.error
      : undefined;
  return (
    <>
      <h1>Tariff assignments</h1>
      <Section title="Assignments" id="assignments">
        <ProblemView error={q.error} />
        <DataTable
          caption="Every assignment, in the order they were set (the most specific scope wins when pricing)"
          columns={assignmentColumns}
          rows={q.data?.items}
          rowId={(r) => r.assignmentId}
          pages={pages}
          nextCursor={q.data?.nextCursor}
          loading={q.isLoading}
          empty="No assignment: sessions cannot be priced until a tariff is assigned (at least a default)."
          testId="assignments-table"
        />
      </Section>
      {auth.can('editTariffs') && (
        <Section title="Assign a tariff" id="assign">
          <form
            className="filters"
            onSubmit={(e) => {
              e.preventDefault();
              add.mutate();
            }}
          >
            <label>
              Tariff{' '}
              <input
                value={tariffId}
                onChange={(e) => setTariffId(e.target.value)}
                required
                aria-invalid={!!errFor('tariffId') || undefined}
              />
            </label>
            <label>
              Scope{' '}
              <select value={kind} onChange={(e) => setKind(e.target.value)}>
                {Object.keys(SCOPE_FIELDS).map((k) => (
                  <option key={k} value={k}>
                    {k}
                  </option>
                ))}
              </select>
            </label>
            {SCOPE_FIELDS[kind].map((f) => (
              <label key={f}>
                {f}{' '}
                <input value={values[f] ?? ''} onChange={(e) => setValues((v) => ({ ...v, [f]: e.target.value }))} />
              </label>
            ))}
            <label>
              Effective from (UTC, empty: now){' '}
              <input type="datetime-local" value={effectiveFrom} onChange={(e) => setEffectiveFrom(e.target.value)} />
            </label>
            <label className="radio">
              <input type="checkbox" checked={removed} onChange={(e) => setRemoved(e.target.checked)} /> withdraw
            </label>
            <button type="submit" className="primary" disabled={add.isPending}>
              {add.isPending ? 'Saving…' : 'Save assignment'}
            </button>
          </form>
          <ProblemView error={add.error} title="Not assigned" />
        </Section>
      )}
    </>
  );
}
