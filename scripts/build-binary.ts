/**
 * `npm run build:binary`: dist/smarthost, one executable with `serve` and every command.
 * libSQL's driver picks its native addon by a computed require(), which a bundler cannot
 * follow; this build points it at the addon for the build machine's platform, so the addon
 * is embedded and the binary runs from any folder.
 */
import { join } from "node:path";

const root = join(import.meta.dir, "..");
const platform = `${process.platform}-${process.arch}${process.platform === "linux" ? "-gnu" : ""}`;

const result = await Bun.build({
  // The threads' entries are bundled beside the CLI (src/serve.ts starts them: DKIM signing, WAL checkpoints).
  entrypoints: [join(root, "src", "cli.ts"), join(root, "src", "runtime", "dkim-pool-worker.ts"), join(root, "src", "runtime", "checkpointer-thread.ts")],
  compile: { outfile: join(root, "dist", "smarthost") },
  minify: true,
  plugins: [
    {
      name: "libsql-native-addon",
      setup(build) {
        build.onLoad({ filter: /[\\/]node_modules[\\/]libsql[\\/]index\.js$/ }, async (args) => {
          const source = await Bun.file(args.path).text();
          const patched = source.replace(/return require\(`@libsql\/\$\{target\}`\);/, `return require("@libsql/${platform}/index.node");`);
          if (patched === source) throw new Error("libsql's native loader changed: update scripts/build-binary.ts");
          return { contents: patched, loader: "js" };
        });
      },
    },
  ],
});
if (!result.success) {
  for (const log of result.logs) console.error(log);
  process.exit(1);
}
console.log(`built ${result.outputs.map((o) => o.path).join(", ")}`);
