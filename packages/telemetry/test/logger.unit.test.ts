import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../src/index";

describe("createLogger", () => {
  it("redacts personal data at any nesting and keeps the rest", () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const log = createLogger({ service: "credit", destination: sink });
    log.info(
      { customerId: "cus_1", phone: "+8613800138000", customer: { nationalId: "110101199003074578", email: "a@b.c" } },
      "registered",
    );
    const out = lines.join("");
    expect(out).toContain("cus_1");
    expect(out).not.toContain("13800138000");
    expect(out).not.toContain("110101199003074578");
    expect(out).not.toContain("a@b.c");
    expect(JSON.parse(out).service).toBe("credit");
  });
});
