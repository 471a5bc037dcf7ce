// A script's first reductions, made before the default engine has started,
// run on the calling thread while it starts: the same bits as on the workers,
// and the script still ends by itself.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { fixture } from "../helpers.js";

test("first reductions before the default engine starts: same bits as on its workers, and the script exits", async () => {
  const out = await new Promise<{ code: number | null; text: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(fixture("ops-cold-script"))], { stdio: ["ignore", "pipe", "pipe"] });
    let text = "";
    child.stdout.on("data", (d: Buffer) => (text += d.toString()));
    child.stderr.on("data", (d: Buffer) => (text += d.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the script did not exit within 60 s: ${text}`));
    }, 60_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, text });
    });
  });
  assert.is(out.code, 0, out.text);
  const r = JSON.parse(out.text.trim().split("\n").pop()!) as { same: boolean[]; threads: number };
  assert.equal(r.same, [true, true, true, true, true, true], out.text);
  assert.ok(r.threads >= 1);
});

test.run();
