// Audit actions that the pages name too: this module imports nothing, so a client component can
// read it without pulling server code into the browser's bundle.

/** Every refused login: wrong password, unknown email, 429, a wrong current password. */
export const LOGIN_FAILED = "user.login.failed";
