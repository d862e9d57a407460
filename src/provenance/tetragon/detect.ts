// Is this input Tetragon's JSON export? Decided by content, from the first event's first key (a
// GetEventsResponse starts with its event key, or node_name/time; SPADE records with type/id/from).

import { CRI_LINE_TEXT } from './cri.js';
import { isTetragonTopKey } from './events.js';

/**
 * - `tetragon`: one JSON event a line (the agent's export file, `tetra getevents -o json`);
 * - `tetragon-cri`: the same lines inside kubelet container log lines (export-stdout's log);
 * - `tetragon-pretty`: pretty-printed events, one after another or in a JSON array.
 */
export type TetragonLayout = 'tetragon' | 'tetragon-cri' | 'tetragon-pretty';

/** Text read before giving up on finding the first key (a first CRI line may be a 16 KiB chunk). */
const DETECTION_LIMIT = 1 << 20;

/** `{ "key"` or `[ { "key"` at `from` (whitespace and newlines allowed between). */
const FIRST_KEY = /^\s*(\[?)\s*\{\s*"([^"\\]*)"/;
/** Enough text to see that no first key is coming: `{` then something other than a quote or space. */
const NO_KEY = /^\s*\[?\s*(?:[^[{\s]|\{\s*[^"\s]|\[\s*[^{\s])/;

type Decision = { layout: TetragonLayout | undefined } | undefined;

function decide(text: string): Decision {
  const start = text.search(/\S/);
  if (start === -1) return undefined;
  const nl = text.indexOf('\n', start);
  const firstLine = text.slice(start, nl === -1 ? undefined : nl);
  if (CRI_LINE_TEXT.test(firstLine)) return decideCri(text, start);
  const m = FIRST_KEY.exec(text.slice(start));
  if (!m) return NO_KEY.test(text.slice(start)) ? { layout: undefined } : undefined;
  if (!isTetragonTopKey(m[2]!)) return { layout: undefined };
  const pretty = m[1] === '[' || firstLine.trim() === '{';
  return { layout: pretty ? 'tetragon-pretty' : 'tetragon' };
}

/** The first stdout record's content (its P chunks joined, stderr lines skipped) must start a Tetragon event. */
function decideCri(text: string, start: number): Decision {
  let content = '';
  for (let at = start; ; ) {
    const nl = text.indexOf('\n', at);
    const line = text.slice(at, nl === -1 ? undefined : nl);
    const fields = /^\S+ (stdout|stderr) ([PF])\S* ?/.exec(line);
    if (!fields) return nl === -1 ? undefined : { layout: undefined };
    if (fields[1] === 'stdout') {
      content += line.slice(fields[0].length);
      const m = FIRST_KEY.exec(content);
      if (m) return { layout: m[1] === '' && isTetragonTopKey(m[2]!) ? 'tetragon-cri' : undefined };
      if (NO_KEY.test(content)) return { layout: undefined };
      if (fields[2] === 'F' && nl !== -1) return { layout: undefined };
    }
    if (nl === -1) return undefined;
    at = nl + 1;
  }
}

/**
 * Decides from `text` (the input's first decoded text), reading more through `more` while the first
 * key is not in it yet. Returns the text read so far (the caller's detection goes on from it).
 */
export async function detectTetragon(text: string, more: () => Promise<string | undefined>): Promise<{ layout: TetragonLayout | undefined; text: string }> {
  let all = text;
  for (;;) {
    const d = decide(all);
    if (d !== undefined) return { layout: d.layout, text: all };
    if (all.length > DETECTION_LIMIT) return { layout: undefined, text: all };
    const next = await more();
    if (next === undefined) return { layout: undefined, text: all };
    all += next;
  }
}
