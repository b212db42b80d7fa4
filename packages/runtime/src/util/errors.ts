/** An error the user caused or can fix; `status` follows HTTP (404 unknown, 409 conflict, 400 input). */
export class UserError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 404 | 409 = 400,
  ) {
    super(message);
    this.name = "UserError";
  }
}
