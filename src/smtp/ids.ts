/** Time-ordered random identifiers (queue ids, session ids); Web Crypto only. */
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"; // Crockford base32

export function newId(randomChars = 12): string {
  const time = Date.now().toString(32).toUpperCase().padStart(9, "0");
  const bytes = crypto.getRandomValues(new Uint8Array(randomChars));
  let rand = "";
  for (const b of bytes) rand += ALPHABET[b & 31];
  return `${time}${rand}`;
}
