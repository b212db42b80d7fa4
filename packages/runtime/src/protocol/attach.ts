// The attach stream between corral-rt and corral-rtd (after an HTTP upgrade): typed frames,
// so that output, the exit code, input, end of input and terminal resizes share one socket.
// Frame: 1 byte type, 4 bytes big-endian length, payload.

export const FRAME = {
  /** daemon -> client: output bytes; client -> daemon: input bytes. */
  data: 1,
  /** daemon -> client: the container's exit code, as decimal text. Last frame. */
  exit: 2,
  /** daemon -> client: JSON {message, exitCode}; the start failed. Last frame. */
  error: 3,
  /** client -> daemon: no more input (stdin closed). */
  stdinEnd: 4,
  /** client -> daemon: JSON {cols, rows}. */
  resize: 5,
} as const;

export type FrameType = (typeof FRAME)[keyof typeof FRAME];

export interface Frame {
  type: FrameType;
  payload: Buffer;
}

const MAX_FRAME = 1024 * 1024;

export function encodeFrame(type: FrameType, payload: Buffer | string = Buffer.alloc(0)): Buffer {
  const body = typeof payload === "string" ? Buffer.from(payload) : payload;
  const header = Buffer.alloc(5);
  header.writeUInt8(type, 0);
  header.writeUInt32BE(body.length, 1);
  return Buffer.concat([header, body]);
}

/** Splits a byte stream into frames; throws on a frame that cannot be one of ours. */
export class FrameDecoder {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const frames: Frame[] = [];
    while (this.pending.length >= 5) {
      const type = this.pending.readUInt8(0);
      const length = this.pending.readUInt32BE(1);
      if (type < 1 || type > 5 || length > MAX_FRAME) throw new Error("corrupt attach stream");
      if (this.pending.length < 5 + length) break;
      frames.push({ type: type as FrameType, payload: this.pending.subarray(5, 5 + length) });
      this.pending = this.pending.subarray(5 + length);
    }
    return frames;
  }
}
