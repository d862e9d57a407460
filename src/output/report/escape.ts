// Every value that comes from a capture, a cluster or a rule file (command lines, paths, service
// names, evidence) reaches the page through these functions: as text, never as markup.

/** Markup this module produced itself; anything else interpolated into `html` is escaped. */
export class Markup {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** Trusted markup: only for constant strings and the output of `html`. */
export function trusted(text: string): Markup {
  return new Markup(text);
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Text for an HTML/SVG text node or a quoted attribute value. C0 control characters (other than
 * tab and newline) are invalid in HTML and XML: they are shown as their Unicode control pictures
 * (NUL as ␀), so nothing is lost and nothing is interpreted.
 */
export function escapeText(value: string): string {
  return value.replace(/[&<>"']|[\u0000-\u0008\u000b-\u001f\u007f]/g, (c) => ENTITIES[c] ?? String.fromCharCode(c === '\u007f' ? 0x2421 : 0x2400 + c.charCodeAt(0)));
}

type Value = Markup | string | number | boolean | null | undefined | readonly Value[];

function render(v: Value): string {
  if (v instanceof Markup) return v.text;
  if (Array.isArray(v)) return v.map(render).join('');
  if (v === null || v === undefined || v === false || v === true) return '';
  return escapeText(String(v));
}

/** Tagged template: interpolated values are escaped unless they are Markup (arrays are joined). */
export function html(strings: TemplateStringsArray, ...values: Value[]): Markup {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i] as Value) + strings[i + 1]!;
  return new Markup(out);
}

/**
 * JSON for a `<script type="application/json">` block: `<`, `>` and `&` become \u escapes so no
 * value can close the element (`</script>`) or open a comment (`<!--`); U+2028/2029 too, for old parsers.
 */
export function jsonForScript(data: unknown): string {
  return JSON.stringify(data).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** At most `max` UTF-16 units, cut on a character boundary, with `…` when cut. */
export function truncate(value: string, max: number): string {
  if (value.length <= max) return value;
  let end = max - 1;
  const code = value.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--; // do not split a surrogate pair
  return `${value.slice(0, end)}…`;
}
