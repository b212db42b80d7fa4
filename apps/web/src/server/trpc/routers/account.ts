// What every signed-in user manages for themselves: their password and API tokens.
import { z } from "zod";
import { cookie, sessionCookie } from "../../auth-request.ts";
import { createTokenInput } from "../../services/api-tokens.ts";
import { changePasswordInput, SESSION_COOKIE } from "../../services/auth.ts";
import { roleProcedure, router } from "../trpc.ts";

export const accountRouter = router({
  changePassword: roleProcedure("account.manage")
    .input(changePasswordInput)
    .mutation(async ({ ctx, input }) => {
      const { endedSessions, session } = await ctx.services.auth.changePassword(
        ctx.user,
        input,
        cookie(ctx.req.headers.cookie, SESSION_COOKIE),
        ctx.actor,
      );
      if (session) ctx.res?.setHeader("set-cookie", sessionCookie(session, ctx.req));
      return { endedSessions };
    }),
  tokens: roleProcedure("account.manage").query(({ ctx }) => ctx.services.tokens.list(ctx.user)),
  createToken: roleProcedure("account.manage")
    .input(createTokenInput)
    .mutation(({ ctx, input }) => ctx.services.tokens.create(ctx.user, input, ctx.actor)),
  revokeToken: roleProcedure("account.manage")
    .input(z.object({ id: z.string().min(1, "id is required") }))
    .mutation(({ ctx, input }) => ctx.services.tokens.revoke(ctx.user, input.id, ctx.actor)),
});
