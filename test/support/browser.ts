/**
 * Chromium for the dashboard tests: the binary from @sparticuz/chromium driven by
 * playwright-core. The package's flags are tuned for one page per process on AWS Lambda;
 * a test here opens and closes several contexts (--single-process would end with the
 * first) and keeps the web's security rules on (the same-origin policy is part of what is
 * tested).
 */
import chromium from "@sparticuz/chromium";
import type { Browser } from "playwright-core";

export async function launchChromium(): Promise<Browser> {
  const { chromium: pw } = await import("playwright-core");
  const args = chromium.args.filter((a) => !["--single-process", "--disable-web-security", "--allow-running-insecure-content"].includes(a));
  return pw.launch({ executablePath: await chromium.executablePath(), args, headless: true });
}
