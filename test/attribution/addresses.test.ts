// Address normalisation: SPADE writes IPv6 fully expanded, upper-case, and IPv4 sockets accepted on a
// dual-stack listener as IPv4-mapped IPv6. Every comparison in the join goes through these two functions.
import { describe, expect, it } from 'vitest';
import { isLocalAddress, normalizeAddress } from '../../src/attribution/addresses.js';

describe('normalizeAddress', () => {
  it.each([
    // The spellings the corpus uses.
    ['0000:0000:0000:0000:0000:FFFF:C0A8:1061', '192.168.16.97'],
    ['0000:0000:0000:0000:0000:FFFF:7F00:0001', '127.0.0.1'],
    ['0000:0000:0000:0000:0000:0000:0000:0000', '::'],
    ['0000:0000:0000:0000:0000:0000:0000:0001', '::1'],
    // Other spellings of the same addresses.
    ['::ffff:192.168.16.97', '192.168.16.97'],
    ['::FFFF:c0a8:1061', '192.168.16.97'],
    ['192.168.16.97', '192.168.16.97'],
    [' 10.96.0.1 ', '10.96.0.1'],
    // IPv6 compression: the longest zero run, and never a single zero group.
    ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'],
    ['2001:db8:1:1:1:1:0:1', '2001:db8:1:1:1:1:0:1'],
    ['fe80::1%eth0', 'fe80::1'],
  ])('%s → %s', (input, expected) => {
    expect(normalizeAddress(input)).toBe(expected);
  });

  it('leaves what is not an address alone instead of inventing one', () => {
    expect(normalizeAddress('not-an-ip')).toBe('not-an-ip');
    expect(normalizeAddress('1:2:3')).toBe('1:2:3');
    expect(normalizeAddress('::ffff:300.1.1.1')).toBe('::ffff:300.1.1.1');
    expect(normalizeAddress('')).toBe('');
  });

  it('does not fold an IPv4-compatible (non-mapped) address to IPv4', () => {
    // ::c0a8:1061 is not ::ffff:c0a8:1061; only the mapped form is the IPv4 host.
    expect(normalizeAddress('0000:0000:0000:0000:0000:0000:C0A8:1061')).toBe('::c0a8:1061');
  });
});

describe('isLocalAddress ("this host or pod")', () => {
  it.each(['0.0.0.0', '127.0.0.1', '127.1.2.3', '::', '::1'])('%s is local', (a) => {
    expect(isLocalAddress(a)).toBe(true);
  });
  it.each(['192.168.16.97', '10.96.0.1', '172.31.30.227', '2001:db8::1', '128.0.0.1'])('%s is not', (a) => {
    expect(isLocalAddress(a)).toBe(false);
  });
  it('recognises IPv4-mapped loopback and any-address once normalised', () => {
    expect(isLocalAddress(normalizeAddress('0000:0000:0000:0000:0000:FFFF:7F00:0001'))).toBe(true);
    expect(isLocalAddress(normalizeAddress('::ffff:0.0.0.0'))).toBe(true);
    expect(isLocalAddress(normalizeAddress('0000:0000:0000:0000:0000:0000:0000:0000'))).toBe(true);
  });
});
