export * from "./constants.js";
export * from "./errors.js";
export * from "./libc.js";
