/** `shape …` commands: pacing per destination (src/shaping/shapes.ts). */
import { addShape, listShapes, removeShape } from "../shaping/shapes.ts";
import { JSON_OPTION, limitValue, printRows, withDb } from "./io.ts";
import type { Command } from "./table.ts";

export const shapeCommands: Command[] = [
  {
    name: "shape add",
    args: "DOMAIN|*.MXHOST",
    summary: "pace a destination: a recipient domain, or an MX host pattern such as *.google.com\n(every domain whose MX is there); replaces the destination's shape if it has one",
    options: {
      connections: { type: "string", value: "N", help: "concurrent deliveries to it from each node" },
      "per-minute": { type: "string", value: "N", help: "messages a minute, across all nodes (halved on 421 / 4.7.x, then recovered)" },
    },
    async run({ config, args, values, out }) {
      const s = await withDb(config, (db) =>
        addShape(db, args[0]!, { connections: limitValue(values.connections, "connections", false), perMinute: limitValue(values["per-minute"], "per-minute", false) }, Date.now()),
      );
      out(`shape ${s.pattern}: connections ${s.connections ?? "default"}, per-minute ${s.perMinute ?? "unpaced"}`);
      return 0;
    },
  },
  {
    name: "shape list",
    summary: "shapes in force: yours, then the built-in defaults you have not replaced, with the pace now",
    options: JSON_OPTION,
    async run(ctx) {
      printRows(ctx, await withDb(ctx.config, (db) => listShapes(db)), "no shapes");
      return 0;
    },
  },
  {
    name: "shape remove",
    args: "DOMAIN|*.MXHOST",
    summary: "remove a shape (a built-in default comes back in force if it was replaced)",
    async run({ config, args, out }) {
      out(`shape ${await withDb(config, (db) => removeShape(db, args[0]!))} removed`);
      return 0;
    },
  },
];
