/**
 * The Workers entry as it was before the bundled argon2 module: the same Worker, with
 * passwords put back on the plain-JavaScript argon2id each request (the isolate is built
 * inside the first fetch, which registers the module). For bench/micro/worker-auth.ts only.
 */
import worker from "../../src/worker.ts";
import { useArgon2Module } from "../../src/policy/passwords.ts";

type Fetch = typeof worker.fetch;

export default {
  ...worker,
  fetch(...args: Parameters<Fetch>): ReturnType<Fetch> {
    const response = worker.fetch(...args);
    // The handler has built the isolate synchronously and now awaits the database.
    useArgon2Module(null);
    return response;
  },
};
