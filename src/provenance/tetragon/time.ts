// RFC 3339 timestamps (protojson's Timestamp, CRI log times) → epoch seconds as SPADE writes them.

/** Up to the minute (`2023-10-06T22:03`): shared by consecutive events, so converted once (see minuteMs). */
const DATE_MINUTE = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})$/;
const MINUTE_PREFIX_LENGTH = 'YYYY-MM-DDTHH:MM'.length;
/** The rest: `:57.712345678Z` or `:57+02:00`. */
const SECOND_ZONE = /^:(\d{2})(?:\.(\d{1,9}))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

const MS_PER_SECOND = 1000;
const SECONDS_PER_MINUTE = 60;
const MS_PER_MINUTE = SECONDS_PER_MINUTE * MS_PER_SECOND;

let lastPrefix = '';
let lastMinute: number | undefined;

/** Epoch ms of the minute `2023-10-06T22:03` (UTC), undefined when not a valid date and time. */
function minuteMs(prefix: string): number | undefined {
  if (prefix === lastPrefix) return lastMinute;
  const m = DATE_MINUTE.exec(prefix);
  let ms: number | undefined;
  if (m) {
    const [, y, mo, d, h, mi] = m as unknown as [string, string, string, string, string, string];
    const month = Number(mo);
    const day = Number(d);
    const hour = Number(h);
    const minute = Number(mi);
    if (month >= 1 && month <= 12 && day >= 1 && hour <= 23 && minute <= 59) {
      ms = Date.UTC(Number(y), month - 1, day, hour, minute);
      if (new Date(ms).getUTCDate() !== day) ms = undefined; // 31 April and the like
    }
  }
  lastPrefix = prefix;
  lastMinute = ms;
  return ms;
}

/**
 * `2023-10-06T22:03:57.712345678Z` → `1696629837.712345678`: whole seconds, then the fraction
 * exactly as written (0 to 9 digits, no float rounding), so `--since/--until` compare it like SPADE's
 * `1701959636.207`. undefined when the text is not an RFC 3339 time at or after 1970.
 */
export function epochSeconds(text: string): string | undefined {
  const minute = minuteMs(text.slice(0, MINUTE_PREFIX_LENGTH));
  if (minute === undefined) return undefined;
  const m = SECOND_ZONE.exec(text.slice(MINUTE_PREFIX_LENGTH));
  if (!m) return undefined;
  const [, s, fraction, sign, oh, om] = m;
  // Leap seconds (:60) are not representable in epoch time; protojson never writes them.
  const second = Number(s);
  if (second > 59) return undefined;
  let ms = minute + second * MS_PER_SECOND;
  if (sign !== undefined) ms -= (sign === '-' ? -1 : 1) * (Number(oh) * SECONDS_PER_MINUTE + Number(om)) * MS_PER_MINUTE;
  if (ms < 0) return undefined; // before 1970: the fraction would have to count backwards
  const whole = String(ms / MS_PER_SECOND);
  return fraction === undefined ? whole : `${whole}.${fraction}`;
}
