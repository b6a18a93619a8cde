/**
 * The DATA payload (RFC 5321 §4.5.2): CRLF-only lines, a leading "." doubled, no line
 * over 998 octets (longer ones are broken, as other MTAs do), ended by CRLF.CRLF.
 */
const MAX_LINE = 998;

export function encodeData(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(message.length + Math.ceil(message.length / 40) + 8);
  let buf = out;
  let n = 0;
  let line = 0;
  const push = (b: number) => {
    if (n === buf.length) {
      const bigger = new Uint8Array(buf.length * 2);
      bigger.set(buf);
      buf = bigger;
    }
    buf[n++] = b;
  };
  const newline = () => {
    push(13);
    push(10);
    line = 0;
  };
  for (let i = 0; i < message.length; i++) {
    const b = message[i]!;
    if (b === 13 || b === 10) {
      if (b === 13 && message[i + 1] === 10) i++;
      newline();
      continue;
    }
    if (line === MAX_LINE) newline();
    if (line === 0 && b === 46) push(46);
    push(b);
    line++;
  }
  if (line > 0) newline();
  push(46);
  push(13);
  push(10);
  return buf.subarray(0, n);
}
