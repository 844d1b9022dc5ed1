// The invariant every refactor must keep: seed 0's default model.json, byte for byte.

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { runDeno, withTempDir } from "./_helpers.ts";

// The experiment's exact file; a user's own data/ copy (another sampling) has other bits.
const SHARED_PULSARS = fileURLToPath(
  new URL("../../shared/data/pulsars_tuned.csv", import.meta.url),
);
const hasShared = await Deno.stat(SHARED_PULSARS).then(() => true, () => false);

/** sha256 of seed 0's model.json from the default run on the shared pulsars_tuned.csv. */
const SEED0_MODEL_SHA256 = "3927a670f9e821e7e889854d83e99e15785b3156768d43b533108116a52b543e";

async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test({
  name: "the default train run on the shared data writes seed 0's pinned model.json",
  ignore: !hasShared,
  fn: async () => {
    await withTempDir("denograd_hash_", async (dir) => {
      const args = ["run", "--allow-read", "--allow-write", "scripts/train.ts"];
      // --out inside the temp dir, so its store (out.d/) is removed with it.
      const run = await runDeno([...args, "--data", SHARED_PULSARS, "--out", join(dir, "out")]);
      assert.equal(run.code, 0, run.stderr);
      const bytes = await Deno.readFile(join(dir, "out", "model.json"));
      assert.equal(await sha256Hex(bytes), SEED0_MODEL_SHA256);
    });
  },
});
