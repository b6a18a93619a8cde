/**
 * Refreshes docs/dashboard.png, the README's picture of the dashboard: runs the browser test
 * that takes it (test/e2e/dashboard.test.ts, "the overview shows …") with
 * SMARTHOST_SCREENSHOT_TO pointing into a temp folder, then copies the picture over the
 * README's. The test itself never writes into the tree. `npm run screenshot`.
 */
import { copyFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
const dir = mkdtempSync(join(tmpdir(), "smarthost-screenshot-"));
const shot = join(dir, "dashboard.png");
try {
  const run = Bun.spawnSync([process.execPath, "test", "--timeout", "120000", "test/e2e/dashboard.test.ts", "-t", "the overview shows the messages just sent"], {
    cwd: root,
    env: { ...process.env, SMARTHOST_SCREENSHOT_TO: shot },
    stdout: "inherit",
    stderr: "inherit",
  });
  if (run.exitCode !== 0 || !existsSync(shot)) {
    console.error("the screenshot test failed: docs/dashboard.png left as it was");
    process.exit(1);
  }
  copyFileSync(shot, join(root, "docs", "dashboard.png"));
  console.log("docs/dashboard.png updated");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
