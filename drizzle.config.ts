import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "sqlite",
  schema: ["./src/db/schema.ts", "./src/db/schema-deliverability.ts", "./src/db/schema-feedback.ts", "./src/db/schema-shaping.ts"],
  out: "./migrations",
});
