import { expect, test } from "bun:test";
import { Slots } from "../../../src/delivery/slots.ts";

test("limits per destination and in total; waiting work starts as slots free", () => {
  const s = new Slots<string>(3, 2, 1);
  expect(s.offer("a", "a1")).toBe("start");
  expect(s.offer("a", "a2")).toBe("start");
  expect(s.offer("a", "a3")).toBe("wait");
  expect(s.offer("a", "a4")).toBe("refuse");
  expect(s.offer("b", "b1")).toBe("start");
  expect(s.offer("b", "b2")).toBe("wait"); // total limit
  expect(s.held).toBe(5);
  expect(s.finish("a")).toEqual([{ key: "a", item: "a3" }]);
  expect(s.finish("b")).toEqual([{ key: "b", item: "b2" }]);
  expect(s.finish("a")).toEqual([]);
  expect(s.held).toBe(2);
});

test("a stuck destination cannot take every slot from the others", () => {
  const s = new Slots<number>(10, 1, 2);
  expect(s.offer("stuck", 1)).toBe("start");
  expect(s.offer("stuck", 2)).toBe("wait");
  expect(s.offer("stuck", 3)).toBe("wait");
  expect(s.offer("stuck", 4)).toBe("refuse");
  expect(s.offer("fine", 5)).toBe("start");
});
