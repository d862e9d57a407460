// Which of the given files are one node's contiguous stream, split by log rotation, and in which order.
//
// - Tetragon's own export rotation (lumberjack): live `<stem><ext>` (tetragon.log, tetragon.json),
//   backups `<stem>-<UTC 2006-01-02T15-04-05.000><ext>`, gzipped with `.gz` when compression is on.
// - Kubelet's container log rotation: live `N.log`, rotated `N.log.<20060102-150405>`, older ones
//   gzipped to `N.log.<…>.gz`.
// A set is the files of one directory with one live name; it is read oldest backup → newest → live
// file, by the time in the names, whatever the argument order. Files matching neither form are
// captures of their own. (Pure: names only, nothing is opened.)
import { posix } from 'node:path';

export interface CaptureFiles {
  /** The set's live file path (whether it was given or not), or the lone file. */
  name: string;
  /** Oldest first. */
  files: string[];
  rotation: 'tetragon' | 'kubelet' | undefined;
}

/** `tetragon-2024-04-14T02-18-14.376.log[.gz]` → stem `tetragon`, time, ext `.log`. */
const LUMBERJACK_BACKUP = /^(.*)-(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3})(\.[^.]*)?(\.gz)?$/;
/** `0.log.20240414-021814[.gz]` → `0.log`, time. */
const KUBELET_ROTATED = /^(\d+\.log)\.(\d{8}-\d{6})(\.gz)?$/;
/** The kubelet's live file. */
const KUBELET_LIVE = /^\d+\.log$/;

interface Member {
  path: string;
  setKey: string;
  live: string;
  rotation: 'tetragon' | 'kubelet';
  /** Sort key: the time in the name; the live file sorts last. */
  time: string;
}

const LIVE_TIME = '~'; // after every digit

function classify(path: string, liveNames: ReadonlySet<string>): Member | undefined {
  const base = posix.basename(path);
  const k = KUBELET_ROTATED.exec(base);
  if (k) return member(path, k[1]!, 'kubelet', k[2]!);
  if (KUBELET_LIVE.test(base)) return member(path, base, 'kubelet', LIVE_TIME);
  const l = LUMBERJACK_BACKUP.exec(base);
  if (l) return member(path, `${l[1]!}${l[3] ?? ''}`, 'tetragon', l[2]!);
  // A live export file belongs to a set only when one of its backups is given too.
  if (liveNames.has(path)) return member(path, base, 'tetragon', LIVE_TIME);
  return undefined;
}

/** The live file's path is the member's, with the live base name (the directory spelled as given). */
function member(path: string, liveBase: string, rotation: 'tetragon' | 'kubelet', time: string): Member {
  const live = path.slice(0, path.length - posix.basename(path).length) + liveBase;
  return { path, setKey: `${rotation}\0${live}`, live, rotation, time };
}

/**
 * Groups `paths` into captures, in the order each capture's first file appears in `paths`; files of
 * one rotation set are ordered oldest → newest by the names. A path given twice is read once.
 */
export function groupRotationSets(paths: readonly string[]): CaptureFiles[] {
  const unique = [...new Set(paths)];
  // Live names that lumberjack backups point at (tetragon.json for tetragon-…Z.json.gz).
  const liveNames = new Set<string>();
  for (const p of unique) {
    if (p === '-') continue;
    const l = LUMBERJACK_BACKUP.exec(posix.basename(p));
    if (l) liveNames.add(member(p, `${l[1]!}${l[3] ?? ''}`, 'tetragon', '').live);
  }
  const captures: CaptureFiles[] = [];
  const sets = new Map<string, { capture: CaptureFiles; members: Member[] }>();
  for (const p of unique) {
    const m = p === '-' ? undefined : classify(p, liveNames);
    if (!m) {
      captures.push({ name: p, files: [p], rotation: undefined });
      continue;
    }
    let set = sets.get(m.setKey);
    if (!set) {
      set = { capture: { name: m.live, files: [], rotation: m.rotation }, members: [] };
      sets.set(m.setKey, set);
      captures.push(set.capture);
    }
    set.members.push(m);
  }
  for (const { capture, members } of sets.values()) {
    // Same time twice (a rotated file and its .gz copy): the uncompressed one first, by name.
    members.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    capture.files = members.map((m) => m.path);
  }
  return captures;
}
