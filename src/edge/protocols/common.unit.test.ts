import { describe, expect, it } from "vitest";
import { InvalidInput } from "../../core/errors.js";
import { bodyText, chars, derivedEventId, httpUrl, siteRootUrl } from "./common.js";

describe("protocol helpers", () => {
  it("counts code points", () => {
    expect([chars(""), chars("abc"), chars("é"), chars("😀😀"), chars("\ud800x")]).toEqual([0, 3, 1, 2, 2]);
  });

  it("normalizes http(s) URLs and refuses others", () => {
    expect(httpUrl("HTTPS://Example.COM")).toBe("https://example.com/");
    expect([httpUrl("ftp://x/"), httpUrl("/a"), httpUrl("javascript:alert(1)")]).toEqual([undefined, undefined, undefined]);
  });

  it.each([
    ["example.com", "https://example.com/"],
    ["Shop.Example:8443", "https://shop.example:8443/"],
    ["", undefined],
    ["not a host", undefined],
    ["a/b", undefined],
    ["a?b", undefined],
    ["a#b", undefined],
    ["u@a", undefined],
  ])("makes the root URL of site %j", (site, url) => {
    expect(siteRootUrl(site)).toBe(url);
  });

  it("derives event ids from the index with a client time and from the sequence without", () => {
    const id = (clientTime: boolean, index: number, seq: number) => derivedEventId("s", "v", "n", "https://s/", 1, clientTime, index, seq);
    expect(id(true, 0, 1)).toBe(id(true, 0, 2));
    expect(id(true, 0, 1)).not.toBe(id(true, 1, 1));
    expect(id(false, 0, 1)).not.toBe(id(false, 0, 2));
    expect(id(false, 0, 1)).toBe(id(false, 5, 1));
  });

  it("decodes UTF-8 bodies and refuses invalid ones", () => {
    expect(bodyText(new TextEncoder().encode("héllo"))).toBe("héllo");
    expect(bodyText("x")).toBe("x");
    expect(() => bodyText(new Uint8Array([0xff]))).toThrow(InvalidInput);
  });
});
