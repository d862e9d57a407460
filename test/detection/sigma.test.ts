// The evaluator feature by feature on tiny rules: values and wildcards, each modifier, the condition
// language, what a rule that cannot load reports, and the `matched` pairs.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { type FieldValue, makeFields } from '../../src/detection/sigma/event.js';
import { loadRules } from '../../src/detection/sigma/load.js';
import { RuleError } from '../../src/detection/sigma/rule-error.js';
import { matchedPairs } from '../../src/detection/alerts.js';
import { parseRule } from '../../src/detection/sigma/rule.js';
import { base64offset, globSource, parseSigmaString, windash } from '../../src/detection/sigma/values.js';

function rule(detection: string): string {
  return `title: t\nlogsource:\n  product: linux\ndetection:\n${detection.replace(/^/gm, '  ')}\n`;
}

function event(fields: Record<string, FieldValue>) {
  const f = makeFields();
  Object.assign(f, fields);
  return { fields: f };
}

function matches(detection: string, fields: Record<string, FieldValue>): boolean {
  return parseRule(rule(detection), 'r.yml').matcher.test(event(fields));
}

function loadError(detection: string): string {
  try {
    parseRule(rule(detection), 'r.yml');
  } catch (err) {
    expect(err).toBeInstanceOf(RuleError);
    return (err as Error).message;
  }
  throw new Error('rule loaded');
}

describe('values', () => {
  it('escapes: \\ escapes only *, ? and \\', () => {
    expect(parseSigmaString('a\\*b\\?c\\\\d\\e\\').parts).toEqual(['a*b?c\\d\\e\\']);
    expect(globSource(parseSigmaString('*/bin/?sh*'))).toBe('\\/bin\\/[\\s\\S]sh');
    expect(globSource(parseSigmaString('exact'))).toBe('^exact$');
  });

  it('case-insensitive by default (Unicode too), |cased is not', () => {
    expect(matches('sel:\n  Image: /BIN/ÄSH\ncondition: sel', { Image: '/bin/äsh' })).toBe(true);
    expect(matches('sel:\n  Image|cased: /BIN/SH\ncondition: sel', { Image: '/bin/sh' })).toBe(false);
  });

  it('numbers and booleans compare as text; null matches a null or absent field', () => {
    expect(matches('sel:\n  DestinationPort: 4444\n  Initiated: true\ncondition: sel', { DestinationPort: '4444', Initiated: 'true' })).toBe(true);
    expect(matches('sel:\n  CommandLine: null\ncondition: sel', { CommandLine: null })).toBe(true);
    expect(matches('sel:\n  CommandLine: null\ncondition: sel', {})).toBe(true);
    expect(matches('sel:\n  CommandLine: null\ncondition: sel', { CommandLine: '' })).toBe(false);
  });

  it('a positive item on an absent field is false, so "and not filter" passes', () => {
    expect(matches('sel:\n  Image|endswith: /sh\nfilter:\n  User: root\ncondition: sel and not filter', { Image: '/bin/sh' })).toBe(true);
  });
});

describe('modifiers', () => {
  it('contains / startswith / endswith keep inner wildcards', () => {
    expect(matches("sel:\n  CommandLine|contains: '/etc/*.conf'\ncondition: sel", { CommandLine: 'cat /etc/ld.so.conf' })).toBe(true);
    expect(matches('sel:\n  Image|startswith: /tmp/\ncondition: sel', { Image: '/var/tmp/x' })).toBe(false);
    expect(matches('sel:\n  Image|endswith: /nc\ncondition: sel', { Image: '/usr/bin/nc' })).toBe(true);
  });

  it('lists are OR; |all makes them AND; |all on one value does not load', () => {
    const d = (m: string) => `sel:\n  CommandLine${m}:\n    - ' -e '\n    - '/bin/sh'\ncondition: sel`;
    expect(matches(d('|contains'), { CommandLine: 'nc -e x' })).toBe(true);
    expect(matches(d('|contains|all'), { CommandLine: 'nc -e x' })).toBe(false);
    expect(matches(d('|contains|all'), { CommandLine: 'nc -e /bin/sh' })).toBe(true);
    expect(loadError("sel:\n  CommandLine|contains|all:\n    - 'x'\ncondition: sel")).toContain('|all needs a list of at least two values');
  });

  it('re: unanchored, case-sensitive unless |i, a leading (?i) becomes the flag, m and s', () => {
    expect(matches("sel:\n  CommandLine|re: '\\s-O\\s'\ncondition: sel", { CommandLine: 'wget -O /tmp/x' })).toBe(true);
    expect(matches("sel:\n  CommandLine|re: 'WGET'\ncondition: sel", { CommandLine: 'wget' })).toBe(false);
    expect(matches("sel:\n  CommandLine|re|i: 'WGET'\ncondition: sel", { CommandLine: 'wget' })).toBe(true);
    expect(matches("sel:\n  CommandLine|re: '(?i)WGET'\ncondition: sel", { CommandLine: 'wget' })).toBe(true);
    expect(matches("sel:\n  F|re|m: '^b$'\ncondition: sel", { F: 'a\nb' })).toBe(true);
    expect(matches("sel:\n  F|re|s: 'a.b'\ncondition: sel", { F: 'a\nb' })).toBe(true);
    expect(matches("sel:\n  F|re: 'a.b'\ncondition: sel", { F: 'a\nb' })).toBe(false);
    expect(loadError("sel:\n  F|re: '(unclosed'\ncondition: sel")).toMatch(/invalid regular expression/);
  });

  it('cidr: IPv4 and IPv6, IPv4-mapped event addresses folded; an invalid CIDR does not load', () => {
    const d = "sel:\n  DestinationIp|cidr:\n    - '10.0.0.0/8'\n    - 'fc00::/7'\ncondition: sel";
    expect(matches(d, { DestinationIp: '10.1.2.3' })).toBe(true);
    expect(matches(d, { DestinationIp: '::ffff:10.1.2.3' })).toBe(true);
    expect(matches(d, { DestinationIp: 'fd12::1' })).toBe(true);
    expect(matches(d, { DestinationIp: '203.0.113.5' })).toBe(false);
    expect(matches(d, { DestinationIp: 'not an address' })).toBe(false);
    expect(loadError("sel:\n  DestinationIp|cidr: '10.0.0.0'\ncondition: sel")).toContain('invalid CIDR');
  });

  it('base64, base64offset (pySigma vectors), wide/utf16*', () => {
    expect(base64offset(parseSigmaString('foobar')).map((s) => s.parts[0])).toEqual(['Zm9vYmFy', 'Zvb2Jhc', 'mb29iYX']);
    expect(matches("sel:\n  F|base64: 'foobar'\ncondition: sel", { F: 'Zm9vYmFy' })).toBe(true);
    expect(matches("sel:\n  F|base64offset|contains: 'foobar'\ncondition: sel", { F: 'xxIGZvb2JhcgYY' })).toBe(true);
    expect(matches("sel:\n  F|wide|base64: 'Test'\ncondition: sel", { F: 'VABlAHMAdAA=' })).toBe(true);
    expect(loadError("sel:\n  F|base64: 'foo*'\ncondition: sel")).toContain('wildcards');
  });

  it('windash: - and / before a word, in five spellings each', () => {
    expect(windash(parseSigmaString(' -c ')).map((s) => s.parts[0])).toEqual([' -c ', ' /c ', ' \u2013c ', ' \u2014c ', ' \u2015c ']);
    expect(matches("sel:\n  F|windash|contains: ' -c '\ncondition: sel", { F: 'cmd /c dir' })).toBe(true);
  });

  it('exists, gt/gte/lt/lte, fieldref, neq', () => {
    expect(matches('sel:\n  A|exists: true\n  B|exists: false\ncondition: sel', { A: null })).toBe(true);
    expect(matches('sel:\n  A|exists: true\ncondition: sel', {})).toBe(false);
    expect(matches('sel:\n  P|gt: 1024\ncondition: sel', { P: '4444' })).toBe(true);
    expect(matches('sel:\n  P|lte: 1024\ncondition: sel', { P: '4444' })).toBe(false);
    expect(matches('sel:\n  P|gte: 10\ncondition: sel', { P: 'ten' })).toBe(false);
    expect(matches('sel:\n  Image|fieldref: ParentImage\ncondition: sel', { Image: '/bin/SH', ParentImage: '/bin/sh' })).toBe(true);
    expect(matches('sel:\n  Image|fieldref|endswith: Tail\ncondition: sel', { Image: '/bin/sh', Tail: 'sh' })).toBe(true);
    expect(matches('sel:\n  P|neq: 443\ncondition: sel', { P: '80' })).toBe(true);
    expect(matches('sel:\n  P|neq: 443\ncondition: sel', { P: '443' })).toBe(false);
    expect(matches('sel:\n  P|neq: 443\ncondition: sel', {})).toBe(false);
    expect(loadError('sel:\n  P|gt: high\ncondition: sel')).toContain('compares numbers');
  });

  it('unknown and unsupported modifiers do not load', () => {
    expect(loadError('sel:\n  Image|endwith: /sh\ncondition: sel')).toContain('unknown modifier "endwith"');
    expect(loadError("sel:\n  Image|expand: '%x%'\ncondition: sel")).toContain('placeholders');
    expect(loadError("sel:\n  Image|contains|re: 'x'\ncondition: sel")).toContain('|re must come first');
  });
});

describe('searches and conditions', () => {
  it('keywords: substring of any field value; a list of maps is OR', () => {
    expect(matches("kw:\n  - 'nc -e'\ncondition: kw", { CommandLine: 'x nc -e /bin/sh' })).toBe(true);
    expect(matches("kw:\n  - 'nc -e'\ncondition: kw", { CommandLine: 'nc' })).toBe(false);
    const d = 'sel:\n  - Image|endswith: /nc\n  - Image|endswith: /ncat\ncondition: sel';
    expect(matches(d, { Image: '/usr/bin/ncat' })).toBe(true);
    expect(loadError("sel:\n  - Image: x\n  - 'keyword'\ncondition: sel")).toContain('not both');
  });

  it('precedence: or < and < not; parentheses; condition lists are OR', () => {
    const d = (c: string) => `a:\n  A: 1\nb:\n  B: 1\nc:\n  C: 1\ncondition: ${c}`;
    expect(matches(d('a or b and c'), { A: '1' })).toBe(true);
    expect(matches(d('(a or b) and c'), { A: '1' })).toBe(false);
    expect(matches(d('not a and b'), { B: '1' })).toBe(true);
    expect(matches(d('not (a or b)'), { B: '1' })).toBe(false);
    expect(matches('a:\n  A: 1\nb:\n  B: 1\ncondition:\n  - a\n  - b', { B: '1' })).toBe(true);
  });

  it('1 of / all of patterns and them; them and patterns skip _ names', () => {
    const d = (c: string) => `sel_a:\n  A: 1\nsel_b:\n  B: 1\n_hidden:\n  H: 1\ncondition: ${c}`;
    expect(matches(d('1 of sel_*'), { A: '1' })).toBe(true);
    expect(matches(d('all of sel_*'), { A: '1' })).toBe(false);
    expect(matches(d('all of them'), { A: '1', B: '1' })).toBe(true);
    expect(matches(d('1 of them'), { H: '1' })).toBe(false);
    expect(matches(d('1 of _hid*'), { H: '1' })).toBe(true);
    expect(loadError(d('1 of filter_*'))).toContain('matches no search identifier');
  });

  it('condition errors: a missing selection, upper-case operators, the aggregation pipe', () => {
    expect(loadError('sel:\n  A: 1\ncondition: sel and filter')).toContain('no search identifier named "filter"');
    expect(loadError('a:\n  A: 1\nb:\n  B: 1\ncondition: a OR b')).toMatch(/expected "and", "or" or the end/);
    expect(loadError('sel:\n  A: 1\ncondition: sel | count() > 5')).toContain('deprecated');
    expect(matches('filter_main_mdadm.conf:\n  A: 1\ncondition: 1 of filter_main_*', { A: '1' })).toBe(true);
  });

  it('matched: the field=value pairs that satisfied the rule, none from under not or from false branches', () => {
    const r = parseRule(rule("sel:\n  Image|endswith: /nc\n  CommandLine|contains: ' -e '\nother:\n  User: root\nfilter:\n  CurrentDirectory: /\ncondition: sel or other and not filter"), 'r.yml');
    expect(matchedPairs(r, event({ Image: '/usr/bin/nc', CommandLine: 'nc -e sh', User: 'x', CurrentDirectory: '/tmp' }))).toEqual(['Image=/usr/bin/nc', 'CommandLine=nc -e sh']);
  });
});

describe('rule files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'clarion-rules-'));
    await mkdir(path.join(dir, 'sub'));
    await writeFile(path.join(dir, 'b.yml'), rule('sel:\n  A: 1\ncondition: sel'));
    await writeFile(path.join(dir, 'sub', 'a.yaml'), rule('sel:\n  A: 1\ncondition: sel'));
    await writeFile(path.join(dir, 'notes.txt'), 'not a rule');
    await writeFile(path.join(dir, 'sub', 'bad.yml'), rule('sel:\n  A|bogus: 1\ncondition: sel'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('directories are searched recursively for .yml/.yaml, in a stable order', async () => {
    const { rules, invalid } = await loadRules([dir], { skipInvalid: true });
    expect(rules.map((r) => path.relative(dir, r.file))).toEqual(['b.yml', path.join('sub', 'a.yaml')]);
    expect(invalid).toEqual([{ file: path.join(dir, 'sub', 'bad.yml'), reason: 'line 6: detection sel: A|bogus: unknown modifier "bogus"' }]);
  });

  it('without skipInvalid a bad rule stops the load with file:line and the reason', async () => {
    await expect(loadRules([dir], { skipInvalid: false })).rejects.toThrow(InputError);
    await expect(loadRules([dir], { skipInvalid: false })).rejects.toThrow(`${path.join(dir, 'sub', 'bad.yml')}:6: invalid Sigma rule: detection sel: A|bogus: unknown modifier "bogus"`);
  });

  it('bad YAML, duplicate keys, a missing title or condition: the reason and line', () => {
    const reason = (text: string) => {
      try {
        parseRule(text, 'x.yml');
      } catch (err) {
        return `${(err as RuleError).line}: ${(err as Error).message}`;
      }
      return 'loaded';
    };
    expect(reason('title: t\ndetection: [unclosed\n')).toMatch(/^\d+: invalid YAML/);
    expect(reason('title: t\ntitle: u\ndetection:\n  condition: x\n')).toMatch(/^2: invalid YAML: Map keys must be unique/);
    expect(reason('logsource: {}\ndetection:\n  sel: {A: 1}\n  condition: sel\n')).toContain('title');
    expect(reason('title: t\ndetection:\n  sel: {A: 1}\n')).toMatch(/^2: detection.condition/);
    expect(reason('title: t\nlevel: severe\ndetection:\n  sel: {A: 1}\n  condition: sel\n')).toMatch(/^2: level/);
  });

  it('a missing path is an input error naming it', async () => {
    await expect(loadRules([path.join(dir, 'nope')], { skipInvalid: true })).rejects.toThrow(/nope: cannot read rules: no such file/);
  });
});
