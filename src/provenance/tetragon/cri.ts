// Kubelet's container log lines (CRI format, written by containerd/CRI-O):
//   <RFC 3339 time> SP stdout|stderr SP P|F[:more tags] SP <content>
// Lines longer than the runtime's limit (containerd: 16 KiB) are cut into `P` (partial) chunks ended
// by an `F` (full) one; the content is the raw bytes, so a chunk may end inside a UTF-8 character and
// the parts are joined as bytes. Only the first three spaces separate fields: the content has spaces.

const SPACE = 0x20;
const COLON = 0x3a;
const TAG_PARTIAL = 0x50; // P
const TAG_FULL = 0x46; // F

export interface CriFields {
  stream: 'stdout' | 'stderr';
  partial: boolean;
  /** Content bytes: [contentStart, end) of the line. */
  contentStart: number;
}

/** The fields of one CRI line ([start, end) of `data`, no newline), or undefined when it is not one. */
export function parseCriLine(data: Buffer, start: number, end: number): CriFields | undefined {
  const s1 = data.indexOf(SPACE, start);
  if (s1 <= start || s1 >= end) return undefined;
  const s2 = data.indexOf(SPACE, s1 + 1);
  if (s2 === -1 || s2 >= end) return undefined;
  let s3 = data.indexOf(SPACE, s2 + 1);
  // An empty content may come without its separating space.
  if (s3 === -1 || s3 > end) s3 = end;
  // The time is not checked beyond its first digit: runtimes differ in fraction width and zone.
  const first = data[start]!;
  if (first < 0x30 || first > 0x39) return undefined;
  const streamLength = s2 - s1 - 1;
  const stream = streamLength === 6 ? data.toString('latin1', s1 + 1, s2) : '';
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  // The tag: P or F, possibly followed by `:` and further tags (runtimeapi.LogTagDelimiter).
  const tag = data[s2 + 1];
  if ((tag !== TAG_PARTIAL && tag !== TAG_FULL) || (s3 > s2 + 2 && data[s2 + 2] !== COLON)) return undefined;
  return { stream, partial: tag === TAG_PARTIAL, contentStart: Math.min(s3 + 1, end) };
}

/** The same test on text (layout detection): `<time> stdout|stderr P|F… `. */
export const CRI_LINE_TEXT = /^\d\S* (?:stdout|stderr) [PF](?::\S*)?(?: |$)/;
