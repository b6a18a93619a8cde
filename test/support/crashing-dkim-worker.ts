/**
 * A DKIM signing thread that dies on a message holding "CRASH-THREAD" (process.exit) or
 * "THROW-THREAD" (an uncaught error), and otherwise signs as the real one does.
 */
import { parentPort } from "node:worker_threads";
import { createJobHandler, type JobRequest } from "../../src/dkim/sign-jobs.ts";

const port = parentPort!;
const handle = createJobHandler();
port.on("message", (req: JobRequest) => {
  if (req.kind === "sign") {
    const text = new TextDecoder().decode(req.raw);
    if (text.includes("CRASH-THREAD")) process.exit(3);
    if (text.includes("THROW-THREAD")) setTimeout(() => {
      throw new Error("signing thread blew up");
    });
    if (text.includes("THROW-THREAD")) return;
  }
  void handle(req).then((reply) => reply && port.postMessage(reply));
});
