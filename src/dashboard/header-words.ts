/** RFC 2047 encoded-words in a header value (`=?utf-8?B?…?=`, `=?utf-8?Q?…?=`), decoded for display. */

// RFC 2047 §2: charset, encoding, encoded text; §6.2: whitespace between adjacent words is dropped.
const WORD = /=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g;

function decodeWord(charset: string, enc: string, text: string): string | null {
  let bytes: Uint8Array;
  try {
    if (enc.toUpperCase() === "B") {
      bytes = Uint8Array.from(atob(text), (ch) => ch.charCodeAt(0));
    } else {
      // §4.2: "_" is a space, =XX a byte.
      const s = text.replace(/_/g, " ");
      const out: number[] = [];
      for (let i = 0; i < s.length; i++) {
        const hex = s[i] === "=" ? s.slice(i + 1, i + 3) : "";
        if (/^[0-9A-Fa-f]{2}$/.test(hex)) out.push(parseInt(hex, 16)), (i += 2);
        else out.push(s.charCodeAt(i) & 0xff);
      }
      bytes = Uint8Array.from(out);
    }
    return new TextDecoder(charset.split("*")[0]!.toLowerCase() as ConstructorParameters<typeof TextDecoder>[0]).decode(bytes);
  } catch {
    return null;
  }
}

export function decodeHeaderWords(value: string): string {
  return value.replace(/(=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=)\s+(?==\?)/g, "$1").replace(WORD, (whole, cs: string, enc: string, text: string) => decodeWord(cs, enc, text) ?? whole);
}
