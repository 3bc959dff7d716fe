import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { FileClock, setFileClock } from "../src/index";

it("a FileClock sees every move of the shared clock at once, with no stale read", () => {
  const file = join(mkdtempSync(join(tmpdir(), "clock-")), "clock.json");
  const clock = new FileClock(file);
  expect(Math.abs(clock.now().getTime() - Date.now())).toBeLessThan(1_000); // no file yet: wall clock
  for (let day = 1; day <= 20; day++) {
    const target = new Date(Date.UTC(2027, 0, day, 16, 5));
    setFileClock(file, target);
    expect(Math.abs(clock.now().getTime() - target.getTime())).toBeLessThan(1_000);
  }
});
