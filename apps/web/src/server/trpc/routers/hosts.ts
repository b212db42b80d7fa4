import { z } from "zod";
import { publicUrl } from "../../auth-request.ts";
import { roleProcedure, router } from "../trpc.ts";

export const hostsRouter = router({
  list: roleProcedure("read").query(({ ctx }) => ctx.services.hosts.list()),
  get: roleProcedure("read")
    .input(z.object({ id: z.string().min(1) }))
    .query(({ ctx, input }) => ctx.services.hosts.get(input.id)),
  createJoinToken: roleProcedure("hosts.manage").mutation(async ({ ctx }) => {
    const t = await ctx.services.hosts.createJoinToken(publicUrl(ctx.req), ctx.user.id);
    await ctx.services.audit.record(ctx.actor, "host.join-token", "", { expiresAt: t.expiresAt });
    return t;
  }),
});
