/**
 * Where a field named by a problem (`body/elements[0].price_components[0].price`, or a JSON pointer
 * `/elements/0/price`) is in a JSON text: the 1-based line of its key (object member) or value (array item), so
 * the editor can show the error next to it. Falls back to the deepest parent found.
 */
export type JsonPath = Array<string | number>;

export function fieldToPath(field: string): JsonPath {
  const f = field.replace(/^(body|query|path)(\/|\.|$)/, '');
  return f
    .split(/[./[\]]+/)
    .filter((p) => p !== '')
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

interface Located {
  path: JsonPath;
  line: number;
}

/** Every value's path and line; stops quietly at a syntax error (what was seen so far is kept). */
export function jsonLines(text: string): Located[] {
  const out: Located[] = [];
  let i = 0;
  let line = 1;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i])) {
      if (text[i] === '\n') line++;
      i++;
    }
  };
  const str = (): string => {
    let s = '';
    i++; // opening quote
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') {
        s += text[i + 1];
        i += 2;
      } else s += text[i++];
    }
    i++;
    return s;
  };
  const value = (path: JsonPath, at: number): void => {
    ws();
    out.push({ path, line: at || line });
    const ch = text[i];
    if (ch === '{') {
      i++;
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        ws();
        if (text[i] !== '"') throw new Error('key expected');
        const keyLine = line;
        const key = str();
        ws();
        if (text[i] !== ':') throw new Error(': expected');
        i++;
        value([...path, key], keyLine);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') return void i++;
        throw new Error(', or } expected');
      }
    } else if (ch === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (let n = 0; ; n++) {
        ws();
        value([...path, n], line);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') return void i++;
        throw new Error(', or ] expected');
      }
    } else if (ch === '"') str();
    else {
      const m = /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i));
      if (!m) throw new Error('value expected');
      i += m[0].length;
    }
  };
  try {
    value([], 0);
  } catch {
    // a syntax error: keep what was located
  }
  return out;
}

export function lineOfField(text: string, field: string): number | undefined {
  const want = fieldToPath(field);
  const all = jsonLines(text);
  let best: Located | undefined;
  for (const l of all) {
    if (l.path.length > want.length) continue;
    if (l.path.every((p, k) => p === want[k]) && (!best || l.path.length > best.path.length)) best = l;
  }
  return best?.line;
}
