/**
 * Stripe's request encoding: `application/x-www-form-urlencoded` with bracketed keys (`metadata[intent_id]=x`,
 * `expand[0]=latest_charge`, `line_items[0][price_data][currency]=eur`). Query strings of GET requests use the
 * same form. Numeric segments build arrays; everything else builds objects; values stay strings (the API layer
 * converts and validates them, as Stripe does).
 */
export type FormValue = string | FormValue[] | { [key: string]: FormValue };
export type FormObject = { [key: string]: FormValue };

export class FormError extends Error {
  constructor(
    message: string,
    readonly param: string,
  ) {
    super(message);
    this.name = 'FormError';
  }
}

const MAX_DEPTH = 8;

function segments(key: string): string[] {
  const open = key.indexOf('[');
  if (open < 0) return [key];
  const out = [key.slice(0, open)];
  const re = /\[([^[\]]*)\]/g;
  let m: RegExpExecArray | null;
  let end = open;
  while ((m = re.exec(key)) !== null) {
    if (m.index !== end) throw new FormError(`Invalid parameter name: ${key}`, key);
    out.push(m[1]);
    end = m.index + m[0].length;
  }
  if (end !== key.length) throw new FormError(`Invalid parameter name: ${key}`, key);
  if (out.length > MAX_DEPTH) throw new FormError(`Parameter nested too deeply: ${key}`, key);
  return out;
}

/** Parses a form body or a query string (without the leading `?`). */
export function parseForm(body: string): FormObject {
  const root: FormObject = {};
  if (body.length === 0) return root;
  for (const pair of body.split('&')) {
    if (pair.length === 0) continue;
    const eq = pair.indexOf('=');
    const rawKey = eq < 0 ? pair : pair.slice(0, eq);
    const rawValue = eq < 0 ? '' : pair.slice(eq + 1);
    const key = decodeURIComponent(rawKey.replace(/\+/g, ' '));
    const value = decodeURIComponent(rawValue.replace(/\+/g, ' '));
    const path = segments(key);
    let node: FormObject | FormValue[] = root;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i];
      const last = i === path.length - 1;
      const nextIsIndex = !last && /^\d*$/.test(path[i + 1]);
      if (Array.isArray(node)) {
        const idx = seg === '' ? node.length : Number(seg);
        if (!Number.isInteger(idx) || idx > 1000) throw new FormError(`Invalid array index in ${key}`, key);
        if (last) node[idx] = value;
        else {
          if (node[idx] === undefined || typeof node[idx] === 'string') node[idx] = nextIsIndex ? [] : {};
          node = node[idx] as FormObject | FormValue[];
        }
      } else {
        if (seg === '__proto__' || seg === 'constructor' || seg === 'prototype')
          throw new FormError(`Invalid parameter name: ${key}`, key);
        if (last) node[seg] = value;
        else {
          const existing: FormValue | undefined = node[seg];
          if (existing === undefined || typeof existing === 'string') node[seg] = nextIsIndex ? [] : {};
          node = node[seg] as FormObject | FormValue[];
        }
      }
    }
  }
  return root;
}

/** A canonical string of parsed parameters: equal parameters, equal strings (idempotency comparison). */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}
