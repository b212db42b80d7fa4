export {
  defaultHelperPath,
  execInContainer,
  execOptionsSchema,
  parseExecOptions,
  type ExecExit,
  type ExecOptions,
  type PipedExec,
  type TtyExec,
} from "./exec.js";
export { TerminalStream, type WindowSize } from "./pty.js";
