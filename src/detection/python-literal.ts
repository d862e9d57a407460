// Python list literals, as the CORAL notebooks read them back with ast.literal_eval: what Python's
// repr() writes for a str, an int, or a list of them.

/** Characters str.isprintable() refuses (besides the ASCII space, which is printable). */
const NOT_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;
const SPACE = ' ';
const NAMED_ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function hexEscape(code: number): string {
  if (code <= 0xff) return `\\x${code.toString(16).padStart(2, '0')}`;
  if (code <= 0xffff) return `\\u${code.toString(16).padStart(4, '0')}`;
  return `\\U${code.toString(16).padStart(8, '0')}`;
}

/** repr(str): single quotes unless the text has a ' and no ", escapes as Python writes them. */
export function pythonString(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of text) {
    if (NAMED_ESCAPES[ch]) out += NAMED_ESCAPES[ch];
    else if (ch === quote) out += `\\${ch}`;
    else if (ch !== SPACE && NOT_PRINTABLE.test(ch)) out += hexEscape(ch.codePointAt(0)!);
    else out += ch;
  }
  return out + quote;
}

/** repr(list): `['a.yml', 'b.yml']`, `[4711, 4712]`, `[]`. */
export function pythonList(items: readonly (string | number)[]): string {
  return `[${items.map((i) => (typeof i === 'number' ? String(i) : pythonString(i))).join(', ')}]`;
}
