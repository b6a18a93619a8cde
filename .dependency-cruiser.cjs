/**
 * The house's import rules, checked by `npm test` (test/unit/architecture.test.ts) and by
 * `npm run check:imports`. docs/architecture.md draws the same layers and says why.
 *
 * Each entry of LAYERS is one floor, from the ground up; a module may import its own
 * folder and anything on a lower floor — never a folder on its own floor or above. So no
 * two folders can import each other, and the folders can form no cycle. Files at the top
 * of src/ are placed by name.
 */
const LAYERS = [
  ["types", "util"],
  ["core"],
  ["log.ts", "smtp"],
  ["mime"],
  ["db"],
  ["secrets"],
  ["config.ts"],
  ["policy", "events", "dkim", "return-path"],
  ["suppression", "domain-check", "complaints"],
  ["shaping"],
  ["queue"],
  ["delivery", "inbound"],
  ["webhooks"],
  ["tlsrpt"],
  ["admin"],
  ["gateway"],
  ["ingress", "dashboard"],
  ["stack.ts"],
  ["runtime"],
  ["serve.ts", "worker.ts", "deno.ts"],
  ["cli"],
  ["cli.ts"],
];

const pathOf = (name) => (name.endsWith(".ts") ? `^src/${name.replace(/\./g, "\\.")}$` : `^src/${name}/`);

const layerRules = LAYERS.flatMap((floor, rank) =>
  floor.flatMap((name) => {
    const notBelow = LAYERS.slice(rank).flat().filter((other) => other !== name);
    if (notBelow.length === 0) return [];
    return {
      name: `layer:${name}`,
      comment: `${name} may use only the floors below it (docs/architecture.md)`,
      severity: "error",
      from: { path: pathOf(name) },
      to: { path: notBelow.map(pathOf) },
    };
  }),
);

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      comment: "no file circles: a module never reaches itself through its imports",
      severity: "error",
      from: { path: "^src/" },
      to: { circular: true },
    },
    {
      name: "unplaced-folder",
      comment: "every folder and top-level file of src/ has a floor in LAYERS",
      severity: "error",
      from: { path: "^src/", pathNot: LAYERS.flat().map(pathOf) },
      to: { path: "^src/" },
    },
    ...layerRules,
  ],
  options: {
    // TypeScript 7's compiler has no API for dependency-cruiser yet: swc parses, and type-only
    // imports count like any other (a type import still ties one folder to another).
    parser: "swc",
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    doNotFollow: { path: "node_modules" },
    exclude: { path: "\\.gen\\.ts$|\\.d\\.ts$" },
    moduleSystems: ["es6"],
  },
};

// The floors themselves, for the test that reports folder cycles by name (not an option of
// dependency-cruiser's, so kept out of what it validates).
Object.defineProperty(module.exports, "LAYERS", { value: LAYERS, enumerable: false });
