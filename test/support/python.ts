/** Runs a Python script (real smtplib) and returns its JSON result. */
export async function python<T = unknown>(script: string, args: (string | number)[] = []): Promise<T> {
  const proc = Bun.spawn(["python3", "-c", script, ...args.map(String)], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`python failed (${code}): ${err}\n${out}`);
  return JSON.parse(out.trim().split("\n").at(-1)!) as T;
}

/** Prelude for scripts: imports, a TLS context that trusts the relay's self-signed certificate. */
export const PY_PRELUDE = `
import json, smtplib, ssl, sys, socket, base64
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
def out(x): print(json.dumps(x))
`;

/** One message through Python's smtplib: STARTTLS, AUTH, MAIL, RCPT…, DATA; returns the final reply text. */
export function smtplibSend(port: number, user: string, password: string, from: string, rcpts: string[], data: string): Promise<string> {
  return python<string>(
    `${PY_PRELUDE}
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]))
s.starttls(context=ctx)
s.login(sys.argv[2], sys.argv[3])
s.mail(sys.argv[4])
for r in json.loads(sys.argv[5]):
    s.rcpt(r)
code, text = s.data(sys.argv[6].encode())
s.quit()
out(text.decode())`,
    [port, user, password, from, JSON.stringify(rcpts), data],
  );
}

/** The reply code Python's smtplib gets to AUTH after STARTTLS (235, 535, 454…). */
export function smtplibLogin(port: number, user: string, password: string): Promise<number> {
  return python<number>(
    `${PY_PRELUDE}
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]))
s.starttls(context=ctx)
try:
    code, _ = s.login(sys.argv[2], sys.argv[3])
except smtplib.SMTPAuthenticationError as e:
    code = e.smtp_code
s.close()
out(code)`,
    [port, user, password],
  );
}
