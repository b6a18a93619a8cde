/**
 * RFC 5322 address lists (header fields and JSON API fields), parsed with nodemailer's
 * addressparser (fast and tolerant), every address then checked as an RFC 5321 mailbox.
 */
import addressparser, { type Address } from "nodemailer/lib/addressparser";
import { parseMailbox } from "../smtp/address.ts";

export interface NamedAddress {
  name: string | null;
  address: string;
  domain: string;
  /** Non-ASCII: needs SMTPUTF8 on the way out. */
  utf8: boolean;
}

function mailboxes(list: Address[]): { name: string; address: string }[] {
  return list.flatMap((a) => (a.group ? mailboxes(a.group) : [{ name: a.name, address: a.address ?? "" }]));
}

function checked(entry: { name: string; address: string }): NamedAddress | null {
  const box = parseMailbox(entry.address, true);
  if (!box || box === "utf8") return null;
  return { name: entry.name || null, address: box.address, domain: box.domain, utf8: box.utf8 };
}

/** Every mailbox of an address list (groups flattened); null when any does not parse. */
export function parseAddressList(value: string): NamedAddress[] | null {
  const boxes = mailboxes(addressparser(value));
  if (boxes.length === 0) return null;
  const out = boxes.map(checked);
  return out.every((a): a is NamedAddress => a !== null) ? out : null;
}

// A bare address of the usual characters, nothing for addressparser to take apart: it would
// hand the same string back as the address with no name, so that step is skipped.
const BARE_ADDRESS = /^[A-Za-z0-9._+-]+@[A-Za-z0-9.-]+$/;

/** Exactly one mailbox ("Name <a@b>" or "a@b"); null otherwise. */
export function parseSingleAddress(value: string): NamedAddress | null {
  if (BARE_ADDRESS.test(value)) return checked({ name: "", address: value });
  const list = addressparser(value);
  if (list.length !== 1 || list[0]!.group) return null;
  return checked(mailboxes(list)[0]!);
}
