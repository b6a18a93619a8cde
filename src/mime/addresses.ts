/** RFC 5322 address lists (header fields and JSON API fields), parsed with email-addresses. */
import emailAddresses from "email-addresses";

export interface NamedAddress {
  name: string | null;
  address: string;
  domain: string;
}

/** Every mailbox of an address list (groups flattened); null when it does not parse. */
export function parseAddressList(value: string): NamedAddress[] | null {
  const list = emailAddresses.parseAddressList({ input: value, rfc6532: true });
  if (!list || list.length === 0) return null;
  const out: NamedAddress[] = [];
  for (const item of list) {
    const boxes = item.type === "group" ? item.addresses : [item];
    for (const b of boxes) out.push({ name: b.name, address: b.address, domain: b.domain });
  }
  return out;
}

/** Exactly one mailbox ("Name <a@b>" or "a@b"); null otherwise. */
export function parseSingleAddress(value: string): NamedAddress | null {
  const one = emailAddresses.parseOneAddress({ input: value, rfc6532: true });
  if (!one || one.type !== "mailbox") return null;
  return { name: one.name, address: one.address, domain: one.domain };
}
