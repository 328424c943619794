import { BlockList, isIP } from 'node:net';
import { lookup } from 'node:dns/promises';
import type { LookupFunction } from 'node:net';
import { lookup as lookupCallback } from 'node:dns';

// Where webhooks may not go (SSRF). Link-local and cloud-metadata addresses never: they reach the
// machine's own cloud credentials. Loopback, private and shared ranges only when allowed (a local
// system, the tests). Checked on the URL when an endpoint is saved, and again on the address each
// delivery actually connects to, so a name that resolves elsewhere later (DNS rebinding) is caught.

const never = new BlockList();
never.addSubnet('169.254.0.0', 16, 'ipv4'); // link-local, AWS/GCP/Azure metadata at 169.254.169.254
never.addSubnet('0.0.0.0', 8, 'ipv4');
never.addAddress('100.100.100.200', 'ipv4'); // Alibaba Cloud metadata
never.addSubnet('fe80::', 10, 'ipv6');
never.addAddress('fd00:ec2::254', 'ipv6'); // AWS metadata over IPv6
never.addAddress('::', 'ipv6');

const privateRanges = new BlockList();
for (const [net, bits] of [
  ['127.0.0.0', 8],
  ['10.0.0.0', 8],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['100.64.0.0', 10], // shared address space (carrier-grade NAT)
  ['198.18.0.0', 15], // benchmarking
] as const)
  privateRanges.addSubnet(net, bits, 'ipv4');
privateRanges.addAddress('::1', 'ipv6');
privateRanges.addSubnet('fc00::', 7, 'ipv6'); // unique local

/** An IPv4 address written as IPv6 (::ffff:10.0.0.1) is judged as the IPv4 one. */
function normalise(address: string): { address: string; family: 'ipv4' | 'ipv6' } {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return { address: mapped[1]!, family: 'ipv4' };
  return { address, family: isIP(address) === 6 ? 'ipv6' : 'ipv4' };
}

/** Why webhooks may not go to this IP address, or undefined when they may. */
export function refusedAddress(ip: string, allowPrivate: boolean): string | undefined {
  const { address, family } = normalise(ip);
  if (never.check(address, family)) return `${ip} is a link-local or cloud-metadata address`;
  if (!allowPrivate && privateRanges.check(address, family)) return `${ip} is a loopback or private address (set OMS_WEBHOOK_ALLOW_PRIVATE=true to allow it)`;
  return undefined;
}

/** Why webhooks may not go to this URL (checking every address its host resolves to now), or undefined. */
export async function refusedUrl(url: string, allowPrivate: boolean): Promise<string | undefined> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'it is not a URL';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return 'only http and https URLs receive webhooks';
  if (parsed.username || parsed.password) return 'credentials in the URL would be sent in the clear with every delivery; put a token in the path instead';
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) return refusedAddress(host, allowPrivate);
  let addresses: { address: string }[];
  try {
    addresses = await lookup(host, { all: true });
  } catch {
    return `its host ${host} does not resolve`;
  }
  for (const { address } of addresses) {
    const why = refusedAddress(address, allowPrivate);
    if (why) return `${host} resolves to ${why}`;
  }
  return undefined;
}

/** A DNS lookup for http.request that refuses to hand over an address webhooks may not reach. */
export function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    lookupCallback(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      const list = addresses as unknown as { address: string; family: number }[];
      for (const a of list) {
        const why = refusedAddress(a.address, allowPrivate);
        if (why) return callback(Object.assign(new Error(`refused to connect: ${hostname} resolves to ${why}`), { code: 'WEBHOOK_ADDRESS_REFUSED' }), '', 0);
      }
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: typeof list) => void)(null, list);
      const first = list[0]!;
      callback(null, first.address, first.family);
    });
  };
}
