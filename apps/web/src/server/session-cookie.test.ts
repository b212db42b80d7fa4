import assert from "node:assert/strict";
import { test } from "node:test";
import { cookieAttributes as attributes } from "../../test/fixtures/set-cookie.ts";
import { clearSessionCookie, setSessionCookie } from "./session-cookie.ts";

test("logout's cookie carries the attributes login's has, Secure exactly when over https", () => {
  for (const https of [true, false]) {
    const set = setSessionCookie("cse_abc", https);
    const clear = clearSessionCookie(https);
    assert.match(set, /^corral_session=cse_abc; /);
    assert.match(clear, /^corral_session=; /);
    assert.match(clear, /; Max-Age=0(;|$)/);
    assert.match(set, /; Max-Age=604800(;|$)/, "a week");
    assert.deepEqual(attributes(clear), attributes(set));
    assert.deepEqual(
      attributes(set),
      ["HttpOnly", "Path=/", "SameSite=Lax", ...(https ? ["Secure"] : [])].sort(),
    );
  }
});
