/**
 * The entry of one DKIM signing thread (started by dkim-pool.ts): answers each job posted
 * to it with the DKIM-Signature fields or the error, in the order the jobs finish.
 */
import { parentPort } from "node:worker_threads";
import { createJobHandler, type JobRequest } from "../dkim/sign-jobs.ts";

const port = parentPort;
if (port) {
  const handle = createJobHandler();
  port.on("message", (req: JobRequest) => {
    void handle(req).then((reply) => {
      if (reply) port.postMessage(reply);
    });
  });
}
